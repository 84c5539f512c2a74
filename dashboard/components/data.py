"""Cached reads for the pages: small arguments in, query results out.

Every entry is keyed on the store, the period bounds, the currency, the zone and the store's
data version, so a write (which bumps the version) is visible at the next run while repeated
views of the same figures cost nothing. The engine is passed as an underscore argument, which
Streamlit leaves out of the key (the store key stands for it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import settings
from dashboard.components.view import View
from dashboard.periods import Period
from queries.kpis import headline_kpis
from queries.timeseries import cost_by_day, revenue_by_day

log = logging.getLogger(__name__)


def _ttl() -> int:
    try:
        return max(1, settings.int_setting("ROI_CACHE_TTL_SECONDS"))
    except ValueError:
        log.warning("ROI_CACHE_TTL_SECONDS is not a whole number; caching for 300 s")
        return 300


TTL_SECONDS = _ttl()
MAX_ENTRIES = 64


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _headline(_engine: Engine, store_key: str, start: datetime, end: datetime, currency: str, tz: str,
              data_version: str) -> dict[str, Any]:
    with _engine.connect() as conn:
        return headline_kpis(conn, Period(start, end), currency, ZoneInfo(tz))


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _revenue(_engine: Engine, store_key: str, start: datetime, end: datetime, currency: str, tz: str,
             data_version: str) -> pd.DataFrame:
    with _engine.connect() as conn:
        return revenue_by_day(conn, Period(start, end), currency, ZoneInfo(tz))


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _cost(_engine: Engine, store_key: str, start: datetime, end: datetime, currency: str, tz: str,
          data_version: str) -> pd.DataFrame:
    with _engine.connect() as conn:
        return cost_by_day(conn, Period(start, end), currency, ZoneInfo(tz))


def _key(view: View) -> tuple:
    return (view.store_key, view.period.start, view.period.end, view.currency, view.tz, view.status.data_version)


def headline(view: View) -> dict[str, Any]:
    """The headline KPIs of the view's period, with ``previous``."""
    return _headline(view.engine, *_key(view))


def revenue(view: View) -> pd.DataFrame:
    """Revenue figures per local day of the view's period."""
    return _revenue(view.engine, *_key(view))


def cost(view: View) -> pd.DataFrame:
    """Cost figures per local day of the view's period."""
    return _cost(view.engine, *_key(view))
