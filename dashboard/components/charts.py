"""Plotly figures for the pages, in one colour-blind-safe palette (Okabe-Ito).

Figures take frames in minor units and plot currency units; the exact values stay in the
frames (and their CSV exports), the chart only draws them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.formatting import major_units
from dashboard.money import exponent

log = logging.getLogger(__name__)

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def _units(frame: pd.DataFrame, column: str, currency: str) -> list[float | None]:
    """Currency units for plotting (floats are fine here: they are only drawn)."""
    values = []
    for v in frame[column]:
        exact = None if pd.isna(v) else major_units(int(v), currency)
        values.append(None if exact is None else float(exact))
    return values


def _layout(fig: go.Figure, currency: str, height: int = 320) -> go.Figure:
    symbol = _SYMBOLS.get(currency.lower(), "")
    decimals = exponent(currency)
    largest = max((abs(v) for trace in fig.data for v in (trace.y or ()) if v is not None), default=0)
    # Small amounts keep their cents on the axis; larger ones read better whole.
    tick_decimals = decimals if largest < 10 else 0
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
        hovermode="x unified",
        bargap=0.25,
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(showgrid=False, tickformat="%d %b")
    fig.update_yaxes(tickprefix=symbol, tickformat=f",.{tick_decimals}f", gridcolor="#E6EAF0", zerolinecolor="#C9D1DC",
                     hoverformat=f",.{decimals}f", ticksuffix="" if symbol else f" {currency.upper()}")
    return fig


def revenue_figure(frame: pd.DataFrame, currency: str) -> go.Figure:
    """Net revenue per day as bars, gross revenue as a line."""
    days = list(frame["day"])
    fig = go.Figure()
    fig.add_bar(x=days, y=_units(frame, "net_revenue", currency), name="Net revenue",
                marker_color=OKABE_ITO["blue"])
    fig.add_scatter(x=days, y=_units(frame, "gross_revenue", currency), name="Gross revenue",
                    mode="lines+markers", line={"color": OKABE_ITO["orange"], "width": 2},
                    marker={"size": 5})
    return _layout(fig, currency)


def cost_figure(frame: pd.DataFrame, currency: str) -> go.Figure:
    """AI cost per day: task cost and imported AI cost, stacked."""
    days = list(frame["day"])
    fig = go.Figure()
    fig.add_bar(x=days, y=_units(frame, "task_cost", currency), name="Task cost",
                marker_color=OKABE_ITO["vermillion"])
    fig.add_bar(x=days, y=_units(frame, "imported_ai_cost", currency), name="Imported AI cost",
                marker_color=OKABE_ITO["purple"])
    fig.update_layout(barmode="stack")
    return _layout(fig, currency)


def export_frame(frame: pd.DataFrame, amount_columns: Sequence[str], currency: str) -> pd.DataFrame:
    """The chart's data for download: ISO days and exact amounts in currency units (text)."""
    out = pd.DataFrame({"day": [d.isoformat() for d in frame["day"]]})
    for column in frame.columns:
        if column == "day":
            continue
        if column in amount_columns:
            out[f"{column}_{currency.lower()}"] = [
                "" if pd.isna(v) else str(major_units(int(v), currency)) for v in frame[column]
            ]
        else:
            out[column] = ["" if pd.isna(v) else str(int(v)) for v in frame[column]]
    return out
