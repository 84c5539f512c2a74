"""The sidebar's date-range filter, bound to the URL so that a link reopens the same view.

Presets end with today (the period runs to the start of tomorrow in the reporting zone, like
``roi kpis`` without ``--to``). A custom range names its first and last local days, both
included. Values in the URL that are not valid fall back to the defaults, with a notice.
The URL carries what the viewer reads: ``?period=Last+7+days``, or
``?period=Custom+range&from=2026-03-01&to=2026-03-31``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.periods import Period, local_midnight

log = logging.getLogger(__name__)

PRESETS: dict[str, str] = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "month": "This month",
    "custom": "Custom range",
}
DEFAULT_PRESET = "30d"
DEFAULT_CUSTOM_DAYS = 30
PARAM_PERIOD, PARAM_FROM, PARAM_TO = "period", "from", "to"
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class PeriodChoice:
    """The period on screen, how to name it, and notices about URL values that were ignored."""

    period: Period
    preset: str
    label: str
    notices: tuple[str, ...] = ()


def preset_period(preset: str, today: date, zone: ZoneInfo) -> Period:
    """The period of a preset, ending at the start of tomorrow in ``zone``."""
    end = local_midnight(today + timedelta(days=1), zone)
    if preset == "month":
        return Period(local_midnight(today.replace(day=1), zone), end)
    days = {"7d": 7, "30d": 30, "90d": 90}.get(preset)
    if days is None:
        raise ValueError(f"unknown period preset {preset!r}")
    return Period(local_midnight(today - timedelta(days=days - 1), zone), end)


def custom_period(first: date, last: date, zone: ZoneInfo) -> Period:
    """From the start of ``first`` to the end of ``last`` (both local days included)."""
    return Period(local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone))


def default_custom_days(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_CUSTOM_DAYS - 1), today


def _parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


_BY_LABEL = {label: code for code, label in PRESETS.items()}


def url_notices(params: Mapping[str, str], today: date) -> tuple[str, ...]:
    """Why values in the URL cannot be used (they are replaced by the defaults)."""
    notices = []
    label = params.get(PARAM_PERIOD)
    if label is not None and label not in _BY_LABEL:
        notices.append(f"The link's period {label[:40]!r} is not one of the choices; "
                       f"showing {PRESETS[DEFAULT_PRESET].lower()} instead.")
    if _BY_LABEL.get(label or "") == "custom":
        for key in (PARAM_FROM, PARAM_TO):
            raw = params.get(key)
            day = _parse_day(raw)
            if raw is not None and (day is None or not EARLIEST <= day <= today + timedelta(days=366)):
                notices.append(f"The link's {key!r} date {raw[:40]!r} is not a usable date (YYYY-MM-DD); "
                               "using the default instead.")
        first, last = _parse_day(params.get(PARAM_FROM)), _parse_day(params.get(PARAM_TO))
        if first and last and last < first:
            notices.append("The link's custom range ends before it starts; showing the default range instead.")
    return tuple(notices)


def choose(preset: str, first: date | None, last: date | None, today: date, zone: ZoneInfo,
           notices: tuple[str, ...] = ()) -> PeriodChoice:
    """The period for the filter's values; an unusable custom range falls back to the default one."""
    if preset not in PRESETS:
        preset = DEFAULT_PRESET
    if preset != "custom":
        return PeriodChoice(preset_period(preset, today, zone), preset, PRESETS[preset], notices)
    default_first, default_last = default_custom_days(today)
    first, last = first or default_first, last or default_last
    if last < first:
        first, last = default_first, default_last
    return PeriodChoice(custom_period(first, last, zone), preset, PRESETS[preset], notices)


def sidebar_period_filter(zone: ZoneInfo, now: datetime | None = None) -> PeriodChoice:
    """Draw the filter in the sidebar and return the chosen period."""
    import streamlit as st

    today = (now or datetime.now(zone)).astimezone(zone).date()
    raw = {k: st.query_params.get(k) for k in (PARAM_PERIOD, PARAM_FROM, PARAM_TO)}
    notices = url_notices({k: v for k, v in raw.items() if v is not None}, today)
    with st.sidebar:
        # The options are the labels themselves: a bound widget writes its shown value to the URL.
        label = st.selectbox(
            "Period", list(_BY_LABEL), index=list(PRESETS).index(DEFAULT_PRESET),
            key=PARAM_PERIOD, bind="query-params",
        )
        preset = _BY_LABEL.get(label or "", DEFAULT_PRESET)
        first = last = None
        if preset == "custom":
            default_first, default_last = default_custom_days(today)
            latest = today + timedelta(days=366)
            left, right = st.columns(2)
            first = left.date_input("From", value=default_first, min_value=EARLIEST, max_value=latest,
                                    key=PARAM_FROM, bind="query-params", format="YYYY-MM-DD")
            last = right.date_input("To (included)", value=default_last, min_value=EARLIEST, max_value=latest,
                                    key=PARAM_TO, bind="query-params", format="YYYY-MM-DD")
            if first and last and last < first and not notices:
                notices = ("The custom range ends before it starts; showing the default range instead.",)
    return choose(preset, first, last, today, zone, notices)
