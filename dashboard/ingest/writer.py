"""Bulk writes into the store, the one way every ingestion path (imports, demo, Stripe) writes rows.

Rows are dicts keyed by column name. Conflicts on the primary key are either ignored (the row
is already there: idempotent re-ingestion) or update the stored row. On PostgreSQL, large
batches go through ``COPY`` into a temporary table and one ``INSERT … SELECT … ON CONFLICT``;
on SQLite, through ``executemany``. Callers own the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

OnConflict = Literal["nothing", "update"]
COPY_THRESHOLD = 500


def _insert_statement(conn: Connection, table: sa.Table, on_conflict: OnConflict, columns: Sequence[str]):
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    if on_conflict == "update":
        updates = {c: stmt.excluded[c] for c in columns if c not in keys}
        if updates:
            return stmt.on_conflict_do_update(index_elements=keys, set_=updates)
    return stmt.on_conflict_do_nothing(index_elements=keys)


def insert_rows(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    on_conflict: OnConflict = "nothing",
) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``, resolving key conflicts as asked."""
    if not rows:
        return
    columns = list(rows[0].keys())
    keys = [c.name for c in table.primary_key.columns]
    if all(k in columns for k in keys):
        # A key repeated within one batch resolves the same on every backend and batch size:
        # the last row wins an update, the first stays when conflicts are ignored.
        ordered = rows if on_conflict == "update" else list(reversed(rows))
        unique = {tuple(row[k] for k in keys): row for row in ordered}
        if len(unique) < len(rows):
            rows = list(unique.values()) if on_conflict == "update" else list(reversed(unique.values()))
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy_upsert(conn, table, columns, rows, on_conflict)
        return
    conn.execute(_insert_statement(conn, table, on_conflict, columns), list(rows))


def _adapted(table: sa.Table, columns: Sequence[str], dialect: sa.Dialect, rows: Sequence[dict[str, Any]]):
    processors = []
    for name in columns:
        col_type = table.c[name].type
        processors.append(col_type.process_bind_param if isinstance(col_type, TypeDecorator) else None)
    for row in rows:
        yield tuple(
            proc(row[name], dialect) if proc is not None else row[name]
            for name, proc in zip(columns, processors)
        )


def _copy_upsert(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    on_conflict: OnConflict,
) -> None:
    staging = f"_roi_stage_{table.name}"
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" '
            f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
        )
        cur.execute(f'TRUNCATE "{staging}"')
        with cur.copy(f'COPY "{staging}" ({quoted}) FROM STDIN') as copy:
            for values in _adapted(table, columns, conn.dialect, rows):
                copy.write_row(values)
    keys = [c.name for c in table.primary_key.columns]
    key_list = ", ".join(f'"{k}"' for k in keys)
    if on_conflict == "update" and [c for c in columns if c not in keys]:
        sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in keys)
        action = f"DO UPDATE SET {sets}"
    else:
        action = "DO NOTHING"
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM "{staging}" '
        f"ON CONFLICT ({key_list}) {action}"
    )
