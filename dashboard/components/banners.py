"""Plain messages in place of figures: demo data, an unreachable store, no schema, no data yet.

A stakeholder reads these instead of a traceback; each says what happened and what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import streamlit as st

log = logging.getLogger(__name__)

DEMO_TEXT = (
    "**Demo data.** These figures come from a generated demo dataset, not from your business. "
    "Connect Stripe with `roi sync stripe` or import your own files with `roi import` to replace them."
)

EMPTY_TEXT = """\
This store holds no data yet. Load some with one of these commands, then reload this page:

- `roi demo` — a realistic demo dataset (customers, charges, subscriptions, tasks, costs) to look around;
- `roi sync stripe` — your Stripe account (set `STRIPE_API_KEY`; a restricted read-only key is enough);
- `roi import events|tasks|costs|fx|model-prices|customers FILE` — your own CSV or Parquet files
  (templates in `data/templates/`).
"""


def demo_banner() -> None:
    st.info(DEMO_TEXT, icon=":material/science:")


def store_unreachable(message: str) -> None:
    """The store cannot be opened: the reason, and where to look."""
    st.title("The dashboard cannot reach its data")
    st.error(f"{message}", icon=":material/cloud_off:")
    st.markdown(
        "Check that the database is running and that `ROI_DATABASE_URL` points at it "
        "(`roi doctor` checks the configuration). This page shows the figures again as soon as "
        "the store answers: reload it."
    )


def schema_missing(missing: Iterable[str]) -> None:
    names = ", ".join(f"`{n}`" for n in missing)
    st.title("The store is not set up yet")
    st.warning(
        f"The database has no {names} table(s). Run `roi db upgrade` to create the schema "
        "(`roi dashboard` does this for you when it starts).",
        icon=":material/construction:",
    )


def empty_state() -> None:
    st.title("No data yet")
    st.info(EMPTY_TEXT, icon=":material/inbox:")


def configuration_error(message: str) -> None:
    st.title("The dashboard is not configured correctly")
    st.error(message, icon=":material/settings:")


def notices(messages: Iterable[str]) -> None:
    """Notices about the view, such as link values that were replaced by defaults."""
    for message in messages:
        st.warning(message, icon=":material/link_off:")
