"""The engine behind the store, and the few facts the store keeps about itself.

One function makes the engine for either backend. On SQLite it turns on WAL (the dashboard
reads while a sync writes), waits for locks instead of failing, and registers the small
functions the named queries need (see :mod:`queries.dialect`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from dashboard import settings
from dashboard.schema import store_meta
from dashboard.types import UTC

log = logging.getLogger(__name__)


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or opened; the message is fit to show a person."""


def _local_date(value: str | None, zone: str) -> str | None:
    if value is None:
        return None
    ts = datetime.fromisoformat(value)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(ZoneInfo(zone)).date().isoformat()


def _on_sqlite_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    dbapi_conn.create_function("roi_local_date", 2, _local_date, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """An engine for ``url`` (default: the configured store). Creates the SQLite file's folder."""
    url = url or settings.database_url()
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a configuration error
        raise StoreUnavailable("ROI_DATABASE_URL is not a valid database URL") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(parsed, **kwargs)
            sa.event.listen(engine, "connect", _on_sqlite_connect)
            return engine
        if parsed.get_backend_name() == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            kwargs.setdefault("pool_pre_ping", True)
            kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
            return sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, OSError) as exc:  # unknown driver, unusable SQLite folder
        where = parsed.render_as_string(hide_password=True)
        raise StoreUnavailable(f"cannot open the store at {where}: {exc}") from exc
    raise StoreUnavailable(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://"
    )


def check_reachable(engine: Engine) -> None:
    """Raise :class:`StoreUnavailable` with a plain message when the store cannot be opened."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreUnavailable(f"cannot reach the store at {where}: {reason}") from exc


def get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(store_meta.c.value).where(store_meta.c.key == key)).scalar_one_or_none()


def set_meta(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(store_meta.update().where(store_meta.c.key == key).values(value=value))
    if updated.rowcount == 0:
        conn.execute(store_meta.insert().values(key=key, value=value))


def bump_data_version(conn: Connection) -> None:
    """Mark that the store's data changed; the dashboard's cache keys on this version."""
    set_meta(conn, "data_version", uuid.uuid4().hex)
    set_meta(conn, "updated_at", datetime.now(UTC).isoformat())


def data_version(conn: Connection) -> str:
    return get_meta(conn, "data_version") or ""
