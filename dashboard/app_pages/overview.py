"""Overview: the headline KPIs against the previous period, revenue and AI cost over time."""

from __future__ import annotations

import logging
from datetime import datetime

import streamlit as st

from dashboard.components import charts, data
from dashboard.components.formatting import format_age, format_period
from dashboard.components.kpi_cards import Card, draw_cards
from dashboard.components.sql_panel import data_and_sql, sql_details
from dashboard.components.view import View, current_view
from dashboard.types import UTC
from queries import kpis, timeseries

log = logging.getLogger(__name__)

CARDS: tuple[Card, ...] = (
    Card("Net revenue", ("net_revenue",), "amount", True,
         "Gross revenue less refunds, disputes and Stripe fees (balance transactions by creation date)."),
    Card("Gross revenue", ("gross_revenue",), "amount", True, "Σ of charges, as settled by Stripe."),
    Card("Stripe fees", ("fees",), "amount", False,
         "Processing fees on charges, refunds and disputes, plus Stripe's other fees."),
    Card("Refunds & disputes", ("refunds", "disputes"), "amount", False,
         "Money returned to customers through refunds and lost in disputes."),
    Card("AI cost", ("ai_cost",), "amount", False,
         "Cost of the AI tasks started in the period, plus imported costs of category ai."),
    Card("ROI", ("roi",), "rate", True, "(Net revenue − total cost) ÷ total cost."),
    Card("Gross margin", ("gross_margin",), "rate", True, "(Net revenue − AI cost) ÷ net revenue."),
    Card("MRR", ("mrr",), "amount", True, "Monthly recurring revenue at the end of the period.",
         pending="Available once subscription history is computed."),
    Card("Tasks", ("tasks",), "count", True, "AI tasks started in the period, any status."),
    Card("Task success rate", ("task_success_rate",), "rate", True, "Succeeded ÷ (succeeded + failed) tasks."),
    Card("Failed-payment rate", ("failed_payment_rate",), "rate", False,
         "Failed ÷ (succeeded + failed) charges created in the period."),
    Card("Conversion rate", ("conversion_rate",), "rate", True,
         "Last step ÷ first step of the configured funnel.",
         pending="Available once the funnel is computed."),
)


def _header(view: View) -> None:
    period, previous = view.period, view.period.previous()
    st.title("Overview")
    updated = format_age(view.status.updated_at, datetime.now(UTC))
    st.caption(
        f"**{format_period(period, view.zone)}** · compared with {format_period(previous, view.zone)} · "
        f"amounts in {view.currency.upper()}, days in {view.tz} · data updated {updated}"
    )


def _revenue_chart(view: View) -> None:
    frame = data.revenue(view)
    with st.container(border=True):
        st.subheader("Revenue over time", anchor=False)
        st.caption("Net revenue per day (bars) and gross revenue (line).")
        st.plotly_chart(charts.revenue_figure(frame, view.currency), key="revenue-chart",
                        config={"displayModeBar": False})
        params = {"start": view.period.start, "end": view.period.end, "tz": view.tz}
        first, last = frame["day"].iloc[0], frame["day"].iloc[-1]
        data_and_sql(
            view.engine, "Data and SQL",
            charts.export_frame(frame, timeseries.REVENUE_COLUMNS, view.currency),
            f"revenue-by-day-{first}-{last}.csv",
            [("revenue-by-day", params), ("fx-rates", {"first_day": first, "last_day": last})],
            key="revenue",
        )


def _cost_chart(view: View) -> None:
    frame = data.cost(view)
    with st.container(border=True):
        st.subheader("AI cost over time", anchor=False)
        st.caption("Cost of AI tasks per day, and imported AI costs, stacked.")
        st.plotly_chart(charts.cost_figure(frame, view.currency), key="cost-chart",
                        config={"displayModeBar": False})
        params = {"start": view.period.start, "end": view.period.end, "tz": view.tz}
        used = kpis.params_by_query(view.period, view.currency, view.zone)
        first, last = frame["day"].iloc[0], frame["day"].iloc[-1]
        data_and_sql(
            view.engine, "Data and SQL",
            charts.export_frame(frame, ("task_cost", "imported_ai_cost", "ai_cost", "other_costs"), view.currency),
            f"cost-by-day-{first}-{last}.csv",
            [("task-cost-by-day", params), ("costs-by-date", used["costs-by-date"]),
             ("fx-rates", {"first_day": first, "last_day": last})],
            key="cost",
        )


def render() -> None:
    """Draw the Overview page for the view built by the frame."""
    view = current_view()
    _header(view)
    figures = data.headline(view)
    draw_cards(CARDS, figures, figures["previous"], view.currency)
    with st.expander("SQL behind these figures", icon=":material/code:"):
        params = kpis.params_by_query(view.period, view.currency, view.zone)
        sql_details(view.engine, [(name, params[name]) for name in kpis.QUERIES_USED])
    left, right = st.columns(2, gap="medium")
    with left:
        _revenue_chart(view)
    with right:
        _cost_chart(view)
