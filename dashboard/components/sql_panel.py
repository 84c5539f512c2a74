"""The SQL behind a figure: each named query as the active backend receives it, with its values."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

import queries

log = logging.getLogger(__name__)


def _shown(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def sql_details(engine: Engine, used: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Draw each named query's doc line, exact statement and bound values (inside an expander)."""
    st.caption(f"Statements as sent to {engine.dialect.name}; values are bound, never written into the SQL.")
    for name, params in used:
        query = queries.get(name)
        text, values = queries.render(engine, name, **params)
        st.markdown(f"**`{name}`** — {query.doc}")
        st.code(text, language="sql", wrap_lines=True)
        if values:
            st.caption("Bound values: " + " · ".join(f"`{k}` = {_shown(v)}" for k, v in values.items()))


def data_and_sql(engine: Engine, title: str, frame: pd.DataFrame, file_name: str,
                 used: Sequence[tuple[str, dict[str, Any]]], key: str) -> None:
    """An expander with the chart's data as a CSV download and the SQL that produced it."""
    with st.expander(title, icon=":material/code:"):
        st.download_button(
            "Download CSV", frame.to_csv(index=False).encode("utf-8"), file_name=file_name, mime="text/csv",
            key=f"download-{key}", icon=":material/download:", on_click="ignore",
        )
        sql_details(engine, used)
