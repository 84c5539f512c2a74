"""The dashboard's frame: page setup, navigation, the store check, the sidebar filter.

Run with ``roi dashboard`` (or ``streamlit run dashboard/app.py``). Every problem with the
store (unreachable, no schema, no data) becomes a plain message in place of the figures; a
demo store says so on every page.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import settings
from dashboard.app_pages import overview
from dashboard.components import banners
from dashboard.components.formatting import format_age
from dashboard.components.period_filter import sidebar_period_filter
from dashboard.components.view import View, set_view
from dashboard.store import StoreUnavailable, check_reachable, make_engine
from dashboard.types import UTC
from queries.status import store_status

log = logging.getLogger("dashboard.app")

st.set_page_config(
    page_title="ROI dashboard",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="expanded",
)


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url)


def _store_key(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL was refused by make_engine already
        return url


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def prepare() -> View | None:
    """The view for this run, or ``None`` after drawing why there is nothing to show."""
    try:
        zone = settings.timezone()
        currency = settings.reporting_currency()
        url = settings.database_url()
        engine = _engine(url)
    except (ValueError, StoreUnavailable) as exc:
        banners.configuration_error(str(exc))
        return None
    try:
        check_reachable(engine)
        with engine.connect() as conn:
            status = store_status(conn)
    except StoreUnavailable as exc:
        banners.store_unreachable(str(exc))
        return None
    except sa.exc.SQLAlchemyError as exc:
        log.warning("store status failed: %s", exc)
        banners.store_unreachable(f"The store at {_store_key(url)} cannot be read: {_reason(exc)}")
        return None
    if not status.ready:
        banners.schema_missing(status.missing_tables)
        return None
    if status.empty:
        banners.empty_state()
        return None

    with st.sidebar:
        st.markdown("### ROI dashboard")
    choice = sidebar_period_filter(zone)
    with st.sidebar:
        st.caption(
            f"Amounts in {currency.upper()} · days in {zone.key}  \n"
            f"Data updated {format_age(status.updated_at, datetime.now(UTC))}"
        )
    if status.demo:
        banners.demo_banner()
    banners.notices(choice.notices)
    view = View(engine=engine, store_key=_store_key(url), choice=choice, currency=currency, zone=zone,
                status=status)
    set_view(view)
    return view


def main() -> None:
    page = st.navigation([
        st.Page(overview.render, title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    ])
    if prepare() is None:
        return
    try:
        page.run()
    except sa.exc.SQLAlchemyError as exc:
        log.warning("a query failed: %s", exc)
        banners.store_unreachable(f"The store stopped answering while this page was drawn: {_reason(exc)}")


main()
