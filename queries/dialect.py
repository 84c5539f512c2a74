"""The one place where SQLite and PostgreSQL differ in the named queries.

A query's source may use small macros written ``{{ name(argument) }}``; they expand to the
backend's own SQL here, so that every query keeps a single source:

- ``{{ local_date(expr) }}``: the calendar day (``YYYY-MM-DD`` text) of the timestamp ``expr``
  in the zone bound as ``:tz``. On SQLite it calls ``roi_local_date``, the function that
  :mod:`dashboard.store` registers on every connection; on PostgreSQL it is ``to_char`` of the
  timestamp at that zone.
"""

from __future__ import annotations

import re

MACRO = re.compile(r"\{\{\s*(?P<name>\w+)\((?P<arg>[^{}()]*)\)\s*\}\}")

_EXPANSIONS: dict[str, dict[str, str]] = {
    "local_date": {
        "sqlite": "roi_local_date({arg}, :tz)",
        "postgresql": "to_char(({arg}) AT TIME ZONE :tz, 'YYYY-MM-DD')",
    },
}

SUPPORTED = ("sqlite", "postgresql")


class UnknownMacro(ValueError):
    """A query uses a macro that this adapter does not define."""


def expand(sql: str, dialect_name: str) -> str:
    """``sql`` with every macro expanded for ``dialect_name`` (``sqlite`` or ``postgresql``)."""
    if dialect_name not in SUPPORTED:
        raise ValueError(f"unsupported database dialect {dialect_name!r}")

    def replace(match: re.Match[str]) -> str:
        name, arg = match.group("name"), match.group("arg").strip()
        if name not in _EXPANSIONS:
            raise UnknownMacro(f"unknown SQL macro {name!r}")
        return _EXPANSIONS[name][dialect_name].format(arg=arg)

    return MACRO.sub(replace, sql)
