"""The bulk writer resolves a key repeated within one batch the same way on every path."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.ingest.writer import insert_rows
from dashboard.schema import customer_links


@pytest.mark.parametrize("size", [10, 600])  # below and above the PostgreSQL COPY threshold
@pytest.mark.parametrize("on_conflict, winner", [("update", "cus_last"), ("nothing", "cus_first")])
def test_repeated_key_in_one_batch(store, size, on_conflict, winner):
    rows = [{"user_id": f"u{i}", "customer_id": f"cus_{i}"} for i in range(size - 2)]
    rows += [{"user_id": "dup", "customer_id": "cus_first"}, {"user_id": "dup", "customer_id": "cus_last"}]
    with store.begin() as conn:
        insert_rows(conn, customer_links, rows, on_conflict=on_conflict)
    with store.connect() as conn:
        stored = conn.execute(sa.select(customer_links.c.customer_id).where(customer_links.c.user_id == "dup"))
        assert stored.scalar_one() == winner
        assert conn.execute(sa.select(sa.func.count()).select_from(customer_links)).scalar() == size - 1
