"""Exact conversion of amounts into the reporting currency at the fx rate of their day.

A rate is in reporting-currency units per unit of the other currency (the ``fx`` import).
An amount already in the reporting currency needs no rate; any other amount without a rate
for its day cannot be converted, and the figure it belongs to is unknown (``None``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

import queries
from dashboard.money import MICROS_PER_UNIT, exponent
from dashboard.periods import Period, local_midnight

log = logging.getLogger(__name__)

# Enough digits that a product of a large amount and a 12-decimal rate is never rounded.
PRECISION = 80


def as_day(value: Any) -> date:
    """A calendar date from a date, a datetime or ``YYYY-MM-DD…`` text (SQLite returns text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_int(value: Any) -> int:
    """An exact integer from a SQL aggregate (PostgreSQL sums bigints as numeric)."""
    if value is None:
        return 0
    if isinstance(value, float):
        if value != int(value):
            raise ValueError(f"{value!r} is not a whole number")
        return int(value)
    return int(Decimal(str(value)))


def local_days(period: Period, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last local calendar days that the period touches (both inclusive)."""
    first = period.start.astimezone(zone).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    return first, last


def dated_days(period: Period, zone: ZoneInfo) -> tuple[date, date]:
    """``[first, end)``: the calendar days whose local start (00:00 in ``zone``) is in the period.

    A cost or rate dated by day belongs to the period that contains the start of its day.
    """
    # Compare instants, not wall-clock times: in some zones a day starts at 01:00 (DST at midnight).
    first = period.start.astimezone(zone).date()
    if period.start > local_midnight(first, zone):
        first += timedelta(days=1)
    end = period.end.astimezone(zone).date()
    if period.end > local_midnight(end, zone):
        end += timedelta(days=1)
    return first, max(first, end)


@dataclass(frozen=True)
class FxTable:
    """The fx rates of a span of days, for one reporting currency."""

    reporting: str
    rates: dict[tuple[date, str], Decimal] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, reporting: str, first_day: date, last_day: date) -> FxTable:
        frame = queries.run(conn, "fx-rates", first_day=first_day, last_day=last_day)
        rates = {
            (as_day(row.day), str(row.currency).lower()): Decimal(str(row.rate))
            for row in frame.itertuples(index=False)
        }
        return cls(reporting=reporting.lower(), rates=rates)

    def rate(self, day: date | None, currency: str) -> Decimal | None:
        """Reporting units per unit of ``currency`` on ``day``; 1 for the reporting currency."""
        currency = currency.lower()
        if currency == self.reporting:
            return Decimal(1)
        if day is None:
            return None
        return self.rates.get((day, currency))

    def minor(self, amount_minor: int, currency: str, day: date | None) -> Decimal | None:
        """Exact minor units of the reporting currency for ``amount_minor`` of ``currency``."""
        currency = currency.lower()
        if currency == self.reporting:
            return Decimal(amount_minor)
        rate = self.rate(day, currency)
        if rate is None:
            return None
        with localcontext(prec=PRECISION):
            return (Decimal(amount_minor) * rate * (Decimal(10) ** exponent(self.reporting))
                    / (Decimal(10) ** exponent(currency)))

    def minor_from_micros(self, micros: int, currency: str, day: date | None) -> Decimal | None:
        """Exact minor units of the reporting currency for ``micros`` millionths of ``currency``."""
        rate = self.rate(day, currency)
        if rate is None:
            return None
        with localcontext(prec=PRECISION):
            return Decimal(micros) * rate * (Decimal(10) ** exponent(self.reporting)) / MICROS_PER_UNIT
