"""What every page draws from: the store, the period on screen, the currency and the zone.

The frame (``dashboard/app.py``) builds the view once per run and pages read it with
:func:`current_view`; it lives in the session, so concurrent viewers never share one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from dashboard.components.period_filter import PeriodChoice
from dashboard.periods import Period
from queries.status import StoreStatus

log = logging.getLogger(__name__)

_SESSION_KEY = "_roi_view"


@dataclass(frozen=True)
class View:
    engine: Engine
    store_key: str  # the store's URL without password: part of every cache key
    choice: PeriodChoice
    currency: str
    zone: ZoneInfo
    status: StoreStatus

    @property
    def period(self) -> Period:
        return self.choice.period

    @property
    def tz(self) -> str:
        return self.zone.key


def set_view(view: View) -> None:
    import streamlit as st

    st.session_state[_SESSION_KEY] = view


def current_view() -> View:
    """The view built by the frame for this run; a page run without the frame is a bug."""
    import streamlit as st

    view = st.session_state.get(_SESSION_KEY)
    if not isinstance(view, View):
        raise RuntimeError("pages run inside dashboard/app.py, which builds the view first")
    return view
