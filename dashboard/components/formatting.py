"""Text for figures: amounts, rates, counts, changes against the previous period, ages.

Pure functions (no Streamlit), so that what a card shows can be tested directly.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from dashboard.money import exponent, format_amount
from dashboard.periods import Period

log = logging.getLogger(__name__)

Kind = Literal["amount", "rate", "count"]
EMPTY = "—"


def format_rate(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage, ``12.5%``; ``—`` when unknown."""
    if value is None:
        return EMPTY
    return f"{value * 100:,.{digits}f}%"


def format_count(value: int | None) -> str:
    return EMPTY if value is None else f"{value:,}"


def format_value(value: int | float | None, kind: Kind, currency: str) -> str:
    """A figure as a card shows it."""
    if kind == "amount":
        return format_amount(None if value is None else int(value), currency)
    if kind == "rate":
        return format_rate(None if value is None else float(value))
    return format_count(None if value is None else int(value))


def format_delta(current: int | float | None, previous: int | float | None, kind: Kind) -> str | None:
    """The change against the previous period: ``+12.3%`` for amounts and counts, ``+1.2 pp`` for
    rates; ``None`` when there is nothing to compare (either side unknown, or a zero base)."""
    if current is None or previous is None:
        return None
    if kind == "rate":
        points = (float(current) - float(previous)) * 100
        return f"{points:+.1f} pp"
    if previous == 0:
        return None
    change = (Decimal(current) - Decimal(previous)) / abs(Decimal(previous)) * 100
    return f"{float(change):+,.1f}%"


def major_units(minor: int | None, currency: str) -> Decimal | None:
    """Exact amount in currency units (``12.34``) from minor units, for charts and exports."""
    if minor is None:
        return None
    return Decimal(int(minor)).scaleb(-exponent(currency))


def format_age(moment: datetime | None, now: datetime) -> str:
    """How long ago: ``just now``, ``5 minutes ago``, ``3 hours ago``, ``2 days ago``."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    days = hours // 24
    return f"{days} days ago"


def format_day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def format_period(period: Period, zone) -> str:  # noqa: ANN001 - a tzinfo
    """``1 Mar 2026 – 7 Mar 2026`` in local days (the end is exclusive, so the last day is shown)."""
    first = period.start.astimezone(zone)
    last_moment = period.end.astimezone(zone)
    last = (last_moment - timedelta(microseconds=1)).date()
    if first.time() != datetime.min.time() or last_moment.time() != datetime.min.time():
        return f"{first:%d %b %Y %H:%M} – {last_moment:%d %b %Y %H:%M}"
    if first.date() == last:
        return format_day(last)
    return f"{format_day(first.date())} – {format_day(last)}"
