"""Schema migrations (Alembic, shipped in the package), for both backends.

``roi db upgrade`` adopts an existing database (see :mod:`dashboard.schema_ops`): it never
re-creates a table that is already there. ``--sql`` prints the statements instead of running
them; when the database can be reached they are planned against its current contents.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy.engine import Engine

from dashboard.schema import adopted_objects
from dashboard.schema_check import VERSION_TABLE, LiveSchema, inspect_live

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class MigrationRefused(Exception):
    """A migration request that cannot be carried out; the message is fit to show."""


def _config(engine: Engine, out: TextIO | None = None) -> Config:
    cfg = Config(stdout=out or sys.stdout)
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser treats % specially; the URL may carry a password with one.
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["report"] = []
    return cfg


def current(engine: Engine) -> str | None:
    """The revision the store is at, or None before the first migration."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def _snapshot(engine: Engine, cfg: Config) -> str | None:
    """For offline (``--sql``) runs: the live schema, adoption records and revision, if reachable."""
    try:
        with engine.connect() as conn:
            cfg.attributes["live_schema"] = inspect_live(conn)
            if sa.inspect(conn).has_table(adopted_objects.name):
                rows = conn.execute(sa.select(adopted_objects.c.table_name, adopted_objects.c.column_name))
                cfg.attributes["adopted"] = {(t, c) for t, c in rows}
            return MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE}
            ).get_current_revision()
    except sa.exc.OperationalError:
        log.warning("database not reachable: printing the SQL for an empty database")
        cfg.attributes["live_schema"] = LiveSchema()
        return None


def _alembic(action, cfg: Config, revision: str, **kw) -> None:
    try:
        action(cfg, revision, **kw)
    except CommandError as exc:  # an unknown revision and the like
        raise MigrationRefused(str(exc)) from exc


def _run(engine: Engine, action, revision: str, sql: bool, out: TextIO | None) -> list[str]:
    cfg = _config(engine, out)
    if sql:
        cfg.attributes["output_buffer"] = out or sys.stdout
        start = _snapshot(engine, cfg)
        if start is None and action is command.downgrade:
            raise MigrationRefused("nothing to downgrade: the store has no migrations applied")
        _alembic(action, cfg, f"{start}:{revision}" if start else revision, sql=True)
        return cfg.attributes["report"]
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        _alembic(action, cfg, revision)
        if conn.in_transaction():
            conn.commit()
    return cfg.attributes["report"]


def upgrade(engine: Engine, revision: str = "head", *, sql: bool = False, out: TextIO | None = None) -> list[str]:
    """Migrate to ``revision``; returns what was adopted or added to existing tables."""
    return _run(engine, command.upgrade, revision, sql, out)


def downgrade(engine: Engine, revision: str, *, sql: bool = False, out: TextIO | None = None) -> list[str]:
    """Take migrations back to ``revision`` (``base`` for none); adopted objects are kept."""
    return _run(engine, command.downgrade, revision, sql, out)
