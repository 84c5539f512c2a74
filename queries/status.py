"""What the store holds, in a few facts: schema present, empty or not, demo data, last write."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import queries
from dashboard.store import get_meta
from dashboard.types import UTC

log = logging.getLogger(__name__)

DATA_TABLES = ("stripe_balance_transactions", "stripe_charges", "stripe_customers", "stripe_subscriptions",
               "product_events", "execution_tasks", "costs")
REQUIRED_TABLES = (*DATA_TABLES, "fx_rates", "store_meta")
"""The tables the dashboard reads; without them it asks for `roi db upgrade`."""


@dataclass(frozen=True)
class StoreStatus:
    """``missing_tables`` lists expected tables that do not exist (then the other facts are unknown)."""

    missing_tables: tuple[str, ...]
    empty: bool
    demo: bool
    updated_at: datetime | None
    data_version: str

    @property
    def ready(self) -> bool:
        return not self.missing_tables


def store_status(conn: Connection) -> StoreStatus:
    """The store's state: a missing schema, no data, demo data, and when it was last written."""
    present = set(sa.inspect(conn).get_table_names())
    missing = tuple(t for t in REQUIRED_TABLES if t not in present)
    if missing:
        return StoreStatus(missing_tables=missing, empty=True, demo=False, updated_at=None, data_version="")
    filled = queries.run(conn, "store-contents")
    updated_text = get_meta(conn, "updated_at")
    updated_at = None
    if updated_text:
        try:
            updated_at = datetime.fromisoformat(updated_text)
            if updated_at.tzinfo is None:
                updated_at = updated_at.replace(tzinfo=UTC)
        except ValueError:
            log.warning("store_meta updated_at is not a timestamp: %r", updated_text)
    return StoreStatus(
        missing_tables=(),
        empty=filled.empty,
        demo=get_meta(conn, "demo") == "1",
        updated_at=updated_at,
        data_version=get_meta(conn, "data_version") or "",
    )
