"""The headline KPIs of a period (``roi kpis --json`` and the Overview page).

Every figure follows PRODUCT.md "Money, time and definitions": cash from balance
transactions by reporting category dated by ``created``, converted into the reporting
currency at the fx rate of the transaction's local day; costs from tasks (by ``started_at``)
and imported costs (by date). Sums are exact; each reported amount is rounded once, half-even,
to an integer in minor units. A figure that cannot be computed (no denominator, a missing fx
rate) is ``None``, never a made-up zero. Figures that later work will provide are ``None``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

import queries
from dashboard.money import micros_to_minor, round_half_even
from dashboard.periods import Period
from dashboard.store import StoreUnavailable
from dashboard.types import UTC
from queries.fx import PRECISION, FxTable, as_day, as_int, dated_days, local_days

log = logging.getLogger(__name__)

INCOME_CATEGORIES = ("charge", "refund", "refund_failure", "dispute", "dispute_reversal", "fee")

# Each cash figure as signed sums of one column of the balance transactions of some categories.
CASH_PARTS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "gross_revenue": (("charge", "amount", 1),),
    "refunds": (("refund", "amount", -1), ("refund_failure", "amount", -1)),
    "disputes": (("dispute", "amount", -1), ("dispute_reversal", "amount", -1)),
    "fees": tuple((c, "fee", 1) for c in INCOME_CATEGORIES if c != "fee") + (("fee", "amount", -1),),
    "net_revenue": tuple((c, "net", 1) for c in INCOME_CATEGORIES),
}

FIGURES: tuple[str, ...] = (
    "gross_revenue", "refunds", "disputes", "fees", "net_revenue",
    "charges_succeeded", "charges_failed", "failed_payment_rate", "paying_customers", "new_paying_customers",
    "mrr", "arr", "active_subscribers", "arpa",
    "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "fx_effect",
    "customer_churn_rate", "nrr", "ltv", "quick_ratio",
    "ai_cost", "other_costs", "total_cost", "roi", "gross_margin", "cac",
    "tasks", "task_success_rate", "conversion_rate",
)
"""The figures of ``roi kpis --json``, in output order (after ``from``, ``to``, ``currency``)."""

AMOUNTS = frozenset({
    "gross_revenue", "refunds", "disputes", "fees", "net_revenue", "mrr", "arr", "arpa",
    "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "fx_effect",
    "ltv", "ai_cost", "other_costs", "total_cost", "cac",
})
"""Figures that are amounts in minor units of the reporting currency (the rest are counts or rates)."""

NOT_YET_AVAILABLE = frozenset({
    "mrr", "arr", "active_subscribers", "arpa", "new_mrr", "expansion_mrr", "contraction_mrr",
    "churned_mrr", "reactivation_mrr", "fx_effect", "customer_churn_rate", "nrr", "ltv",
    "quick_ratio", "conversion_rate",
})

REQUIRED_TABLES = ("stripe_balance_transactions", "stripe_charges", "execution_tasks", "costs", "fx_rates")

QUERIES_USED = ("cash-by-category", "fx-rates", "charge-counts", "new-paying-customers", "task-summary",
                "costs-by-date")
"""The named queries behind the headline figures, for showing their SQL."""


@dataclass(frozen=True)
class CashRow:
    """Σ amount, fee and net of one category in one settlement currency (on one day, or any)."""

    category: str
    currency: str
    day: date | None
    amount: int
    fee: int
    net: int


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, seconds precision unless the instant has a fraction."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def require_schema(conn: Connection) -> None:
    """Raise :class:`StoreUnavailable` with a plain message when the tables are not there."""
    present = set(sa.inspect(conn).get_table_names())
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        raise StoreUnavailable(
            f"the store has no {', '.join(missing)} table{'s' if len(missing) > 1 else ''}: "
            "run `roi db upgrade` to create the schema"
        )


def cash_rows(frame: pd.DataFrame) -> list[CashRow]:
    """Rows of ``cash-by-category`` or ``revenue-by-day`` as :class:`CashRow`."""
    rows = []
    for rec in frame.to_dict("records"):
        day = rec.get("day")
        rows.append(CashRow(
            category=str(rec["reporting_category"]),
            currency=str(rec["currency"]).lower(),
            day=None if day is None or pd.isna(day) else as_day(day),
            amount=as_int(rec["amount"]),
            fee=as_int(rec["fee"]),
            net=as_int(rec["net"]),
        ))
    return rows


def cash_figures(rows: Iterable[CashRow], fx: FxTable) -> dict[str, Decimal | None]:
    """Exact (unrounded) gross, refunds, disputes, fees and net in reporting minor units.

    A figure is ``None`` when any transaction it sums is in another currency without an fx
    rate for its day.
    """
    rows = list(rows)
    out: dict[str, Decimal | None] = {}
    for figure, parts in CASH_PARTS.items():
        total: Decimal | None = Decimal(0)
        for category, column, sign in parts:
            for row in rows:
                if row.category != category:
                    continue
                converted = fx.minor(getattr(row, column), row.currency, row.day)
                if converted is None:
                    total = None
                    break
                with localcontext(prec=PRECISION):
                    total += sign * converted
            if total is None:
                break
        out[figure] = total
    return out


def _ratio(numerator: Decimal | int | None, denominator: Decimal | int | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    with localcontext(prec=PRECISION):
        return float(Decimal(numerator) / Decimal(denominator))


def _add(*values: Decimal | None) -> Decimal | None:
    if any(v is None for v in values):
        return None
    with localcontext(prec=PRECISION):
        return sum((Decimal(v) for v in values), Decimal(0))


def _rounded(value: Decimal | None) -> int | None:
    return None if value is None else round_half_even(value)


def _costs(conn: Connection, period: Period, fx: FxTable, zone: ZoneInfo) -> dict[str, Decimal | None]:
    """Exact imported costs in reporting minor units: ``ai``, ``marketing`` and ``other`` (all but ai)."""
    first_day, end_day = dated_days(period, zone)
    frame = queries.run(conn, "costs-by-date", first_day=first_day, end_day=end_day)
    sums: dict[str, Decimal | None] = {"ai": Decimal(0), "marketing": Decimal(0), "other": Decimal(0)}
    for rec in frame.to_dict("records"):
        category = str(rec["category"])
        converted = fx.minor_from_micros(as_int(rec["amount_micros"]), str(rec["currency"]), as_day(rec["day"]))
        buckets = ["ai"] if category == "ai" else ["other", "marketing"] if category == "marketing" else ["other"]
        for bucket in buckets:
            sums[bucket] = _add(sums[bucket], converted)
    return sums


def period_figures(conn: Connection, period: Period, currency: str, zone: ZoneInfo) -> dict[str, Any]:
    """Every figure of :data:`FIGURES` for one period, in that order."""
    currency = currency.lower()
    bounds = {"start": period.start, "end": period.end, "tz": zone.key, "currency": currency}
    first_day, last_day = local_days(period, zone)
    fx = FxTable.load(conn, currency, first_day, last_day)

    cash = cash_figures(cash_rows(queries.run(conn, "cash-by-category", **bounds)), fx)

    charges = queries.run(conn, "charge-counts", **bounds).iloc[0]
    succeeded, failed = as_int(charges["succeeded"]), as_int(charges["failed"])
    new_paying = as_int(queries.run(conn, "new-paying-customers", **bounds).iloc[0]["new_paying_customers"])

    tasks = queries.run(conn, "task-summary", **bounds).iloc[0]
    task_cost = micros_to_minor(as_int(tasks["cost_micros"]), currency)
    imported = _costs(conn, period, fx, zone)
    ai_cost = _add(task_cost, imported["ai"])
    other_costs = imported["other"]
    total_cost = _add(ai_cost, other_costs)
    net = cash["net_revenue"]

    values: dict[str, Any] = {name: None for name in FIGURES}
    values.update({name: _rounded(cash[name]) for name in CASH_PARTS})
    values.update({
        "charges_succeeded": succeeded,
        "charges_failed": failed,
        "failed_payment_rate": _ratio(failed, succeeded + failed),
        "paying_customers": as_int(charges["paying_customers"]),
        "new_paying_customers": new_paying,
        "ai_cost": _rounded(ai_cost),
        "other_costs": _rounded(other_costs),
        "total_cost": _rounded(total_cost),
        "roi": _ratio(None if net is None or total_cost is None else net - total_cost, total_cost),
        "gross_margin": _ratio(None if net is None or ai_cost is None else net - ai_cost, net),
        "cac": None,
        "tasks": as_int(tasks["tasks"]),
        "task_success_rate": _ratio(as_int(tasks["succeeded"]),
                                    as_int(tasks["succeeded"]) + as_int(tasks["failed"])),
    })
    marketing = imported["marketing"]
    if marketing is not None and new_paying:
        with localcontext(prec=PRECISION):
            values["cac"] = round_half_even(marketing / new_paying)
    return values


def headline_kpis(conn: Connection, period: Period, currency: str, zone: ZoneInfo) -> dict[str, Any]:
    """The JSON object of ``roi kpis --json``: the period, its figures, and ``previous``."""
    require_schema(conn)
    previous = period.previous()
    return {
        "from": iso_utc(period.start),
        "to": iso_utc(period.end),
        "currency": currency.lower(),
        **period_figures(conn, period, currency, zone),
        "previous": {
            "from": iso_utc(previous.start),
            "to": iso_utc(previous.end),
            **period_figures(conn, previous, currency, zone),
        },
    }


def params_by_query(period: Period, currency: str, zone: ZoneInfo) -> dict[str, dict[str, Any]]:
    """The bound values of each query in :data:`QUERIES_USED` for ``period``, for :func:`queries.render`."""
    bounds = {"start": period.start, "end": period.end, "tz": zone.key, "currency": currency.lower()}
    first_day, last_day = local_days(period, zone)
    cost_first, cost_end = dated_days(period, zone)
    return {
        "cash-by-category": bounds,
        "fx-rates": {"first_day": first_day, "last_day": last_day},
        "charge-counts": bounds,
        "new-paying-customers": bounds,
        "task-summary": bounds,
        "costs-by-date": {"first_day": cost_first, "end_day": cost_end},
    }
