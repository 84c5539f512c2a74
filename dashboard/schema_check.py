"""Compare the live database with the schema the code expects (``roi db check``).

Reports every missing table, column, index and key, and every column whose live type could
lose or corrupt data written through our types. Harmless differences are not drift: a wider
integer or numeric, ``text`` for ``varchar``, nullability, extra tables, columns or indexes.
On SQLite, where any value fits any column, types are compared by SQLite's type affinity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator

from dashboard.schema import metadata

log = logging.getLogger(__name__)

VERSION_TABLE = "roi_alembic_version"


@dataclass(frozen=True)
class LiveColumn:
    name: str
    type: sa.types.TypeEngine
    declared: str  # the type as the database states it, e.g. "numeric(12,2)" or "TEXT"


@dataclass(frozen=True)
class LiveTable:
    name: str
    columns: dict[str, LiveColumn]
    indexes: tuple[tuple[str, tuple[str, ...], bool], ...]  # (name, columns, unique)
    primary_key: tuple[str, ...]

    def has_index_on(self, columns: tuple[str, ...], unique: bool = False) -> bool:
        """True when an index (or the primary key) leads with exactly these columns."""
        if columns == self.primary_key or (not unique and self.primary_key[: len(columns)] == columns):
            return True
        for _name, cols, is_unique in self.indexes:
            if unique and is_unique and cols == columns:
                return True
            if not unique and cols[: len(columns)] == columns:
                return True
        return False


@dataclass
class LiveSchema:
    tables: dict[str, LiveTable] = field(default_factory=dict)


def inspect_live(conn: Connection) -> LiveSchema:
    """What the database holds now: tables, column types, indexes and primary keys."""
    insp = sa.inspect(conn)
    live = LiveSchema()
    for name in insp.get_table_names():
        columns = {}
        declared = _declared_sqlite_types(conn, name) if conn.dialect.name == "sqlite" else {}
        for col in insp.get_columns(name):
            text = declared.get(col["name"]) or _render_type(col["type"], conn.dialect)
            columns[col["name"]] = LiveColumn(col["name"], col["type"], text)
        indexes = tuple(
            (ix["name"], tuple(c for c in ix["column_names"] if c), bool(ix["unique"]))
            for ix in insp.get_indexes(name)
        )
        uniques = tuple(
            (uq["name"], tuple(uq["column_names"]), True) for uq in insp.get_unique_constraints(name)
        )
        pk = tuple(insp.get_pk_constraint(name).get("constrained_columns") or ())
        live.tables[name] = LiveTable(name, columns, indexes + uniques, pk)
    return live


def _declared_sqlite_types(conn: Connection, table: str) -> dict[str, str]:
    rows = conn.exec_driver_sql(f'PRAGMA table_info("{table}")').fetchall()
    return {row[1]: row[2] or "" for row in rows}


def _render_type(type_: sa.types.TypeEngine, dialect: sa.Dialect) -> str:
    try:
        return type_.compile(dialect=dialect)
    except Exception:  # noqa: BLE001 - unknown reflected types still need a name in the report
        return str(type_.__class__.__name__)


def expected_type(column: sa.Column, dialect: sa.Dialect) -> sa.types.TypeEngine:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        return type_.load_dialect_impl(dialect)
    return type_


# --- type comparison -----------------------------------------------------------------------

def sqlite_affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (https://sqlite.org/datatype3.html 3.1)."""
    text = declared.upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in text or not text:
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _sqlite_problem(expected: sa.types.TypeEngine, declared: str) -> str | None:
    affinity = sqlite_affinity(declared)
    if isinstance(expected, (sa.DateTime, sa.Date)):
        ok = {"TEXT", "NUMERIC", "BLOB"}
    elif isinstance(expected, (sa.Integer, sa.Boolean)):
        ok = {"INTEGER", "NUMERIC"}
    elif isinstance(expected, sa.Numeric):
        ok = {"NUMERIC", "REAL", "INTEGER"}
    elif isinstance(expected, sa.String):
        ok = {"TEXT", "BLOB"}
    else:
        return None
    if affinity in ok:
        return None
    return f"{affinity.lower()} affinity would change stored values"


_PG_INT_SIZES = {"SMALLINT": 2, "INTEGER": 4, "BIGINT": 8}


def _pg_problem(expected: sa.types.TypeEngine, live: sa.types.TypeEngine) -> str | None:
    if isinstance(expected, sa.Boolean):
        return None if isinstance(live, sa.Boolean) else "not a boolean"
    if isinstance(expected, sa.Integer):
        if not isinstance(live, sa.Integer):
            return "not an integer type"
        want = _PG_INT_SIZES.get(type(expected).__visit_name__.upper(), 4)
        if isinstance(expected, sa.BigInteger):
            want = 8
        have = 8 if isinstance(live, sa.BigInteger) else 2 if isinstance(live, sa.SmallInteger) else 4
        return None if have >= want else "narrower integer could overflow"
    if isinstance(expected, sa.Numeric) and not isinstance(expected, sa.Float):
        if isinstance(live, sa.Float) or not isinstance(live, sa.Numeric):
            return "not an exact numeric type"
        if live.precision is None:
            return None
        want_p, want_s = expected.precision or 1000, expected.scale or 0
        have_s = live.scale or 0
        if have_s < want_s or live.precision - have_s < want_p - want_s:
            return "narrower numeric could round or overflow"
        return None
    if isinstance(expected, sa.DateTime):
        if not isinstance(live, sa.DateTime):
            return "not a timestamp"
        if expected.timezone and not getattr(live, "timezone", False):
            return "timestamp without time zone would lose the UTC offset"
        return None
    if isinstance(expected, sa.Date):
        return None if isinstance(live, sa.Date) else "not a date"
    if isinstance(expected, sa.String):
        if not isinstance(live, sa.String):
            return "not a text type"
        if live.length is not None and (expected.length is None or live.length < expected.length):
            return f"limited to {live.length} characters"
        return None
    return None


def type_problem(column: sa.Column, live: LiveColumn, dialect: sa.Dialect) -> str | None:
    """Why the live column's type could lose data written through ``column``'s type, or None."""
    expected = expected_type(column, dialect)
    if dialect.name == "sqlite":
        return _sqlite_problem(expected, live.declared)
    return _pg_problem(expected, live.type)


def _expected_indexes(table: sa.Table) -> list[tuple[tuple[str, ...], bool]]:
    return [(tuple(c.name for c in ix.columns), bool(ix.unique)) for ix in table.indexes]


# --- the check -----------------------------------------------------------------------------

def drift(live: LiveSchema, dialect: sa.Dialect) -> list[str]:
    """Every difference that matters, one line each, in a stable order."""
    lines: list[str] = []
    for table in metadata.sorted_tables:
        have = live.tables.get(table.name)
        if have is None:
            lines.append(f"{table.name}: missing")
            continue
        for column in table.columns:
            live_col = have.columns.get(column.name)
            if live_col is None:
                lines.append(f"{table.name}.{column.name}: missing")
                continue
            problem = type_problem(column, live_col, dialect)
            if problem:
                want = _render_type(expected_type(column, dialect), dialect)
                lines.append(
                    f"{table.name}.{column.name}: type {live_col.declared}, expected {want} ({problem})"
                )
        pk = tuple(c.name for c in table.primary_key.columns)
        if pk and not have.has_index_on(pk, unique=True):
            lines.append(f"{table.name}: primary key ({', '.join(pk)}) missing")
        for cols, unique in _expected_indexes(table):
            if all(c in have.columns for c in cols) and not have.has_index_on(cols, unique):
                lines.append(f"{table.name}: index on ({', '.join(cols)}) missing")
    return lines


def check(engine: Engine) -> list[str]:
    """``roi db check``: the drift lines for the store behind ``engine`` (empty when clean)."""
    with engine.connect() as conn:
        return drift(inspect_live(conn), conn.dialect)


def expected_summary() -> str:
    tables = list(metadata.sorted_tables)
    columns = sum(len(t.columns) for t in tables)
    indexes = sum(len(t.indexes) for t in tables)
    return f"{len(tables)} tables, {columns} columns and {indexes} indexes as expected"
