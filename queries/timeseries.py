"""Figures per local day, for the charts: revenue (gross, refunds, disputes, fees, net) and cost.

Days are cut in the reporting zone; every day of the period is present, so a day without
transactions shows as zero rather than disappearing from a chart. Amounts are integers in
minor units of the reporting currency, rounded half-even per day; a day whose figure needs a
missing fx rate has ``<NA>`` for that figure.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Connection

import queries
from dashboard.money import micros_to_minor, round_half_even
from dashboard.periods import Period
from queries.fx import FxTable, as_day, as_int, dated_days, local_days
from queries.kpis import CASH_PARTS, cash_figures, cash_rows

log = logging.getLogger(__name__)

REVENUE_COLUMNS = tuple(CASH_PARTS)
COST_COLUMNS = ("task_cost", "imported_ai_cost", "ai_cost", "other_costs", "tasks")
REVENUE_QUERIES = ("revenue-by-day", "fx-rates")
COST_QUERIES = ("task-cost-by-day", "costs-by-date", "fx-rates")


def _days(period: Period, zone: ZoneInfo) -> list[date]:
    first, last = local_days(period, zone)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _frame(days: list[date], columns: tuple[str, ...], values: dict[date, dict[str, int | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {col: pd.array([values.get(d, {}).get(col, 0) for d in days], dtype="Int64") for col in columns}
    )
    frame.insert(0, "day", days)
    return frame


def revenue_by_day(conn: Connection, period: Period, currency: str, zone: ZoneInfo) -> pd.DataFrame:
    """One row per local day: ``day`` and the five cash figures in reporting minor units."""
    currency = currency.lower()
    first, last = local_days(period, zone)
    fx = FxTable.load(conn, currency, first, last)
    frame = queries.run(conn, "revenue-by-day", start=period.start, end=period.end, tz=zone.key)
    by_day: dict[date, list] = defaultdict(list)
    for row in cash_rows(frame):
        by_day[row.day].append(row)
    values: dict[date, dict[str, int | None]] = {}
    for day, rows in by_day.items():
        figures = cash_figures(rows, fx)
        values[day] = {k: None if v is None else round_half_even(v) for k, v in figures.items()}
    return _frame(_days(period, zone), REVENUE_COLUMNS, values)


def cost_by_day(conn: Connection, period: Period, currency: str, zone: ZoneInfo) -> pd.DataFrame:
    """One row per local day: task cost, imported AI cost, AI cost, other costs (minor units), tasks."""
    currency = currency.lower()
    first, last = local_days(period, zone)
    fx = FxTable.load(conn, currency, first, last)
    exact: dict[date, dict[str, Decimal | None]] = defaultdict(
        lambda: {"task_cost": Decimal(0), "imported_ai_cost": Decimal(0), "other_costs": Decimal(0)}
    )
    tasks: dict[date, int] = {}
    for rec in queries.run(conn, "task-cost-by-day", start=period.start, end=period.end, tz=zone.key).to_dict("records"):
        day = as_day(rec["day"])
        exact[day]["task_cost"] = micros_to_minor(as_int(rec["cost_micros"]), currency)
        tasks[day] = as_int(rec["tasks"])
    cost_first, cost_end = dated_days(period, zone)
    for rec in queries.run(conn, "costs-by-date", first_day=cost_first, end_day=cost_end).to_dict("records"):
        day = as_day(rec["day"])
        column = "imported_ai_cost" if rec["category"] == "ai" else "other_costs"
        converted = fx.minor_from_micros(as_int(rec["amount_micros"]), str(rec["currency"]), day)
        current = exact[day][column]
        exact[day][column] = None if converted is None or current is None else current + converted
    values: dict[date, dict[str, int | None]] = {}
    for day, sums in exact.items():
        ai = None if sums["imported_ai_cost"] is None else sums["task_cost"] + sums["imported_ai_cost"]
        row = {**sums, "ai_cost": ai}
        values[day] = {k: None if v is None else round_half_even(v) for k, v in row.items()}
        values[day]["tasks"] = tasks.get(day, 0)
    return _frame(_days(period, zone), COST_COLUMNS, values)
