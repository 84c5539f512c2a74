"""Migration operations that adopt a database instead of assuming it is empty.

A migration says which tables it is responsible for; :func:`ensure_tables` creates those that
are missing and, on a table that already exists (created by another program, such as a task
service's ``execution_tasks``), only adds what is missing: columns (nullable, so existing rows
stay valid and the table is not rewritten), the primary key as a unique index, and indexes
(``CONCURRENTLY`` on PostgreSQL, so a live table keeps taking writes). What existed before is
recorded in ``roi_adopted_objects`` and :func:`drop_tables` never drops it.

These helpers are idempotent, so a migration that ensures a table is correct whether the
table is absent, adopted, or already complete. They run online (inspecting the live database)
and offline for ``roi db upgrade --sql`` (from a snapshot taken by :mod:`dashboard.migrate`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.operations import ops

from dashboard.schema import adopted_objects
from dashboard.schema_check import LiveSchema, LiveTable, inspect_live

log = logging.getLogger(__name__)


def _live() -> LiveSchema:
    if context.is_offline_mode():
        return context.config.attributes.setdefault("live_schema", LiveSchema())
    return inspect_live(op.get_bind())


def _adopted() -> set[tuple[str, str]]:
    if context.is_offline_mode():
        return set(context.config.attributes.get("adopted", set()))
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(adopted_objects.name):
        return set()
    rows = bind.execute(sa.select(adopted_objects.c.table_name, adopted_objects.c.column_name))
    return {(t, c) for t, c in rows}


def _report(line: str) -> None:
    log.info(line)
    context.config.attributes.setdefault("report", []).append(line)


def _is_postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _column_for_existing_table(column: sa.Column) -> sa.Column:
    default = column.server_default.arg if column.server_default is not None else None
    return sa.Column(column.name, column.type, nullable=True, server_default=default)


def _index_op(name: str, table: str, columns: Sequence[str], unique: bool, concurrently: bool) -> ops.CreateIndexOp:
    kw = {"postgresql_concurrently": True} if concurrently else {}
    return ops.CreateIndexOp(name, table, list(columns), unique=unique, **kw)


def ensure_tables(tables: Sequence[sa.Table]) -> None:
    """Create missing tables; complete existing ones without touching their rows."""
    live = _live()
    adopted_rows: list[dict[str, str]] = []
    concurrent: list[ops.CreateIndexOp] = []
    for table in tables:
        have = live.tables.get(table.name)
        if have is None:
            op.invoke(ops.CreateTableOp.from_table(table))
            for index in table.indexes:
                op.invoke(ops.CreateIndexOp.from_index(index))
            if context.is_offline_mode():
                live.tables[table.name] = LiveTable(table.name, {}, (), ())
            continue
        added = [c.name for c in table.columns if c.name not in have.columns]
        _report(f"adopted {table.name}" + (f": added {', '.join(added)}" if added else ""))
        adopted_rows.append({"table_name": table.name, "column_name": ""})
        adopted_rows += [{"table_name": table.name, "column_name": c} for c in have.columns]
        adopted_rows += [{"table_name": table.name, "column_name": f"index:{name}"}
                         for name, _cols, _unique in have.indexes if name]
        for column in table.columns:
            if column.name not in have.columns:
                op.add_column(table.name, _column_for_existing_table(column))
        pk = tuple(c.name for c in table.primary_key.columns)
        if pk and not have.has_index_on(pk, unique=True):
            concurrent.append(_index_op(f"uq_{table.name}_key", table.name, pk, True, _is_postgres()))
        for index in table.indexes:
            cols = tuple(c.name for c in index.columns)
            if not have.has_index_on(cols, bool(index.unique)):
                concurrent.append(_index_op(index.name, table.name, cols, bool(index.unique), _is_postgres()))
    if adopted_rows:
        _record_adoption(adopted_rows)
    if concurrent and _is_postgres():
        # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
        with op.get_context().autocommit_block():
            for index_op in concurrent:
                op.invoke(index_op)
    else:
        for index_op in concurrent:
            op.invoke(index_op)


def _record_adoption(rows: list[dict[str, str]]) -> None:
    known = _adopted()
    fresh = [r for r in rows if (r["table_name"], r["column_name"]) not in known]
    if fresh:
        op.bulk_insert(adopted_objects, fresh)


def drop_tables(tables: Sequence[sa.Table]) -> None:
    """Take ``ensure_tables`` back: drop the tables it created; on adopted tables drop only the
    indexes it added. Columns added to an adopted table stay: another program may already
    write them, and removing one is how the task service broke in the first place."""
    adopted = _adopted()
    live = _live()
    for table in reversed(list(tables)):
        have = live.tables.get(table.name)
        if have is None:
            continue
        if (table.name, "") not in adopted:
            op.drop_table(table.name)
            continue
        ours = [ix.name for ix in table.indexes] + [f"uq_{table.name}_key"]
        existing = {name for name, _c, _u in have.indexes}
        for name in ours:
            if name in existing and (table.name, f"index:{name}") not in adopted:
                op.drop_index(name, table_name=table.name)
        _report(f"kept adopted {table.name} with its columns and rows")
