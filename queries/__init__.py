"""The read side: every figure's SQL, named and documented, in the ``*.sql`` files of this package.

Each query in a ``.sql`` file starts with ``-- name: some-name`` followed by at least one
``-- doc line`` and then the statement, with ``:param`` placeholders and the macros of
:mod:`queries.dialect`. The same source runs on SQLite and PostgreSQL.

:func:`run` executes a query and returns a DataFrame; :func:`render` returns the exact statement
text that the active backend receives and its bound values, so that the dashboard can show
the SQL behind any figure. Values are always bound, never formatted into the text; datetimes
are bound as :class:`dashboard.types.UTCDateTime` so that comparisons match the stored format.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard.types import ExactDecimal, UTCDateTime
from queries import dialect

log = logging.getLogger(__name__)

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>[a-z0-9][a-z0-9-]*)\s*$")
# The same placeholder syntax that SQLAlchemy's text() recognises.
_PARAM = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


@dataclass(frozen=True)
class Query:
    """One named statement: its source (with macros), its doc line and the file it lives in."""

    name: str
    doc: str
    sql: str
    file: str

    def sql_for(self, dialect_name: str) -> str:
        """The statement for one backend, macros expanded, placeholders still ``:named``."""
        return dialect.expand(self.sql, dialect_name)

    def params_for(self, dialect_name: str) -> tuple[str, ...]:
        """The placeholders the statement binds on that backend, in order of first use."""
        return tuple(dict.fromkeys(_PARAM.findall(self.sql_for(dialect_name))))


class QueryFileError(ValueError):
    """A ``.sql`` file of this package is malformed (no name, no doc line, duplicate name)."""


def parse(text: str, file: str) -> list[Query]:
    """The named queries of one ``.sql`` file, in file order."""
    found: list[Query] = []
    name: str | None = None
    doc: list[str] = []
    body: list[str] = []

    def close() -> None:
        if name is None:
            if "".join(body).strip():
                raise QueryFileError(f"{file}: SQL before the first '-- name:' line")
            return
        sql = "\n".join(body).strip().rstrip(";").strip()
        if not doc:
            raise QueryFileError(f"{file}: query {name!r} has no doc line")
        if not sql:
            raise QueryFileError(f"{file}: query {name!r} has no statement")
        found.append(Query(name=name, doc=" ".join(doc), sql=sql, file=file))

    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match:
            close()
            name, doc, body = match.group("name"), [], []
            continue
        stripped = line.strip()
        if name is not None and not body and stripped.startswith("--"):
            doc.append(stripped[2:].strip())
        elif name is not None and not body and not stripped:
            continue
        else:
            body.append(line)
    close()
    return found


@cache
def catalog() -> dict[str, Query]:
    """Every named query of the package, by name."""
    queries: dict[str, Query] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".sql"):
            continue
        for query in parse(entry.read_text(encoding="utf-8"), entry.name):
            if query.name in queries:
                raise QueryFileError(f"query {query.name!r} is defined in {queries[query.name].file} and {entry.name}")
            queries[query.name] = query
    return queries


def get(name: str) -> Query:
    """The named query; KeyError names it when it does not exist."""
    try:
        return catalog()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r}") from None


def _bind_type(value: Any) -> sa.types.TypeEngine:
    if isinstance(value, datetime):
        return UTCDateTime()
    if isinstance(value, date):
        return sa.Date()
    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, int):
        return sa.BigInteger()
    if isinstance(value, Decimal):
        return ExactDecimal()
    if isinstance(value, str):
        return sa.Text()
    return sa.types.NULLTYPE


def statement(bind: Connection | Engine, name: str, **params: Any) -> sa.TextClause:
    """The named query as an executable statement for ``bind``'s backend, every value bound.

    Parameters the query does not use are ignored, so one dict of filters can serve many
    queries; a parameter it needs but did not get is an error.
    """
    query = get(name)
    dialect_name = bind.dialect.name
    needed = query.params_for(dialect_name)
    missing = [p for p in needed if p not in params]
    if missing:
        raise TypeError(f"query {name!r} needs parameter(s): {', '.join(missing)}")
    binds = [sa.bindparam(p, params[p], type_=_bind_type(params[p])) for p in needed]
    return sa.text(query.sql_for(dialect_name)).bindparams(*binds)


def run(conn: Connection, name: str, **params: Any) -> pd.DataFrame:
    """Execute the named query on ``conn``; one DataFrame column per selected column."""
    result = conn.execute(statement(conn, name, **params))
    columns = list(result.keys())
    return pd.DataFrame.from_records(result.fetchall(), columns=columns)


def render(bind: Connection | Engine, name: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """The exact statement text the active backend receives, and its bound values by name.

    On a backend with positional placeholders (SQLite's ``?``), the values are listed in
    placeholder order.
    """
    compiled = statement(bind, name, **params).compile(dialect=bind.dialect)
    values = compiled.params
    if compiled.positiontup:
        ordered = {key: values[key] for key in compiled.positiontup}
    else:
        ordered = dict(values)
    return str(compiled), ordered


def names() -> list[str]:
    return sorted(catalog())
