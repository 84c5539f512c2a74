"""Shared fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ROI_TEST_POSTGRES_URL (default: the local server's ``test`` database).
Each test gets a schema of its own, named in the URL's ``search_path``, so tests never see
each other's tables and a subprocess given the URL sees exactly the same store. Where no
server answers, PostgreSQL tests are skipped on a laptop and fail under CI=true.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.store import make_engine

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_base_url() -> str:
    return os.environ.get("ROI_TEST_POSTGRES_URL", DEFAULT_PG_URL)


_pg_status: dict[str, str | None] = {}


def _pg_unavailable_reason() -> str | None:
    if "reason" not in _pg_status:
        try:
            engine = sa.create_engine(_pg_base_url(), connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_status["reason"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means no server to test against
            _pg_status["reason"] = f"PostgreSQL not reachable at ROI_TEST_POSTGRES_URL: {exc.__class__.__name__}"
    return _pg_status["reason"]


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop; under CI=true a missing service or browser is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: these tests must run)")
    pytest.skip(reason)


def require_postgres() -> None:
    reason = _pg_unavailable_reason()
    if reason:
        skip_or_fail(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty store on the parametrised backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_pg_base_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(_pg_base_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on an empty, un-migrated store."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    """An engine on a store migrated to the latest schema."""
    from dashboard.migrate import upgrade

    upgrade(engine)
    return engine


@pytest.fixture
def roi_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point the ``roi`` command (run in-process through ``dashboard.cli.main``) at the test store."""
    monkeypatch.setenv("ROI_DATABASE_URL", db_url)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("ROI_TIMEZONE", "UTC")
    monkeypatch.setenv("ROI_REPORTING_CURRENCY", "usd")
    monkeypatch.chdir(tmp_path)
    return db_url
