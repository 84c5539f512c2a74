"""Reporting periods: ``--from``/``--to`` in ROI_TIMEZONE, half-open, with the period before.

A bare date means 00:00 in the reporting zone; ``--to`` defaults to the start of tomorrow
(today included) and ``--from`` to 30 days before ``--to``. The previous period has equal
length and ends where this one starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dashboard.types import UTC

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, aware UTC
    end: datetime  # exclusive, aware UTC

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("--to must be after --from")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> "Period":
        return Period(self.start - self.length, self.start)


def parse_bound(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date or date-time; a bare date or a time without offset is in ``zone``."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=zone).astimezone(UTC)
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{text!r} is out of the supported range of dates") from exc
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time") from exc


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def resolve(start: str | None, end: str | None, zone: ZoneInfo, now: datetime | None = None) -> Period:
    """The period named by optional ``--from``/``--to`` strings; ValueError with a plain reason."""
    try:
        period = _resolve(start, end, zone, now or datetime.now(UTC))
        period.previous()
    except OverflowError as exc:
        raise ValueError("the period (or the one before it) falls outside the supported range of dates") from exc
    return period


def _resolve(start: str | None, end: str | None, zone: ZoneInfo, now: datetime) -> Period:
    if end:
        end_at = parse_bound(end, zone)
    else:
        end_at = local_midnight(now.astimezone(zone).date() + timedelta(days=1), zone)
    if start:
        start_at = parse_bound(start, zone)
    else:
        start_at = local_midnight(end_at.astimezone(zone).date() - timedelta(days=DEFAULT_DAYS), zone)
        if end_at != local_midnight(end_at.astimezone(zone).date(), zone):
            start_at = end_at - timedelta(days=DEFAULT_DAYS)
    return Period(start_at, end_at)
