"""`roi db upgrade|downgrade|current|check`: migrations that adopt a foreign database safely."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dashboard import migrate, schema_check
from dashboard.cli import main
from dashboard.schema import metadata

# A task service's own table, as it would create it: PRODUCT.md's task columns in plain SQL
# types, and no ai_model (the incident behind this project).
FOREIGN_TASKS = {
    "sqlite": """CREATE TABLE execution_tasks (
        task_id TEXT PRIMARY KEY, user_id TEXT, task_type TEXT, status TEXT NOT NULL,
        started_at TIMESTAMP WITH TIME ZONE NOT NULL, finished_at TIMESTAMP WITH TIME ZONE,
        input_tokens INTEGER, output_tokens INTEGER, cost NUMERIC, customer_id TEXT, error TEXT)""",
    "postgresql": """CREATE TABLE execution_tasks (
        task_id text PRIMARY KEY, user_id text, task_type text, status text NOT NULL,
        started_at timestamp with time zone NOT NULL, finished_at timestamp with time zone,
        input_tokens integer, output_tokens integer, cost numeric, customer_id text, error text)""",
}

FOREIGN_ROWS = [
    {"task_id": f"t{i}", "user_id": f"u{i % 7}", "task_type": "summarise", "status": "succeeded",
     "started_at": datetime(2026, 3, 1, 10, i % 60, tzinfo=timezone.utc), "input_tokens": 1000 + i,
     "output_tokens": 200 + i, "cost": Decimal("0.0125")}
    for i in range(250)
]


def _create_foreign(engine: sa.Engine, backend: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(FOREIGN_TASKS[backend])
        # Bind timestamps as ISO text with offset on SQLite, as another program would.
        rows = [
            {**r, "started_at": r["started_at"].isoformat() if backend == "sqlite" else r["started_at"],
             "cost": str(r["cost"]) if backend == "sqlite" else r["cost"]}
            for r in FOREIGN_ROWS
        ]
        conn.execute(sa.text(
            "INSERT INTO execution_tasks (task_id, user_id, task_type, status, started_at, "
            "input_tokens, output_tokens, cost) VALUES (:task_id, :user_id, :task_type, :status, "
            ":started_at, :input_tokens, :output_tokens, :cost)"), rows)


def _foreign_snapshot(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT task_id, user_id, task_type, status, started_at, input_tokens, output_tokens, cost "
            "FROM execution_tasks ORDER BY task_id")]


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_fresh_store_upgrades_to_a_clean_schema(engine, roi_env, capsys):
    assert main(["db", "check"]) == 1
    assert "execution_tasks: missing" in capsys.readouterr().out.splitlines()
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "check"]) == 0
    out = capsys.readouterr().out
    assert "schema OK" in out
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == "0001"
    # Idempotent: a second upgrade is a no-op.
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "check"]) == 0


def test_foreign_tasks_table_is_adopted_keeping_every_row(engine, backend, roi_env, capsys):
    _create_foreign(engine, backend)
    before = _foreign_snapshot(engine)

    assert main(["db", "check"]) == 1
    drift = capsys.readouterr().out.splitlines()
    assert "execution_tasks.ai_model: missing" in drift
    # Plain SQL types of the task service are not drift.
    assert not [line for line in drift if line.startswith("execution_tasks.") and "type" in line]

    assert main(["db", "upgrade"]) == 0
    assert "adopted execution_tasks: added ai_model, cost_micros" in capsys.readouterr().out
    assert main(["db", "check"]) == 0
    assert _foreign_snapshot(engine) == before

    # The task service can now write ai_model, and our writer can upsert by task_id.
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO execution_tasks (task_id, status, started_at, ai_model) "
            "VALUES ('new', 'failed', :ts, 'claude-x')"),
            {"ts": "2026-03-02T00:00:00+00:00" if backend == "sqlite" else datetime(2026, 3, 2, tzinfo=timezone.utc)})


def test_round_trip_keeps_adopted_data_and_drops_only_our_objects(engine, backend, roi_env, capsys):
    _create_foreign(engine, backend)
    before = _foreign_snapshot(engine)
    assert main(["db", "upgrade"]) == 0
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO store_meta (key, value) VALUES ('k', 'v')"))
        conn.execute(sa.text("UPDATE execution_tasks SET ai_model = 'gpt-x' WHERE task_id = 't1'"))

    assert main(["db", "downgrade", "base"]) == 0
    assert "kept adopted execution_tasks" in capsys.readouterr().out
    tables = _tables(engine)
    assert "execution_tasks" in tables
    assert not tables & {"store_meta", "product_events", "stripe_charges", "roi_adopted_objects"}
    assert _foreign_snapshot(engine) == before
    columns = {c["name"] for c in sa.inspect(engine).get_columns("execution_tasks")}
    assert {"task_id", "cost", "started_at", "ai_model"} <= columns  # nothing a writer relies on is dropped
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("execution_tasks")}
    assert "ix_execution_tasks_started_at" not in indexes

    assert main(["db", "upgrade"]) == 0
    assert main(["db", "check"]) == 0
    assert _foreign_snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT ai_model FROM execution_tasks WHERE task_id = 't1'")).scalar() == "gpt-x"


def test_round_trip_on_our_own_store_with_data(store, backend):
    with store.begin() as conn:
        conn.execute(sa.text("INSERT INTO store_meta (key, value) VALUES ('k', 'v')"))
    migrate.downgrade(store, "base")
    assert _tables(store) <= {"roi_alembic_version"}
    migrate.upgrade(store)
    assert schema_check.check(store) == []
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM store_meta")).scalar() == 0


def test_harmful_type_is_named_and_harmless_ones_are_not(engine, backend):
    ddl = FOREIGN_TASKS[backend]
    # Harmful: tokens stored as text; harmless: a wider numeric and bigint tokens.
    ddl = ddl.replace("input_tokens INTEGER", "input_tokens TEXT").replace("input_tokens integer", "input_tokens text")
    ddl = ddl.replace("output_tokens INTEGER", "output_tokens BIGINT").replace("output_tokens integer", "output_tokens bigint")
    ddl = ddl.replace("cost NUMERIC", "cost NUMERIC(24,8)").replace("cost numeric", "cost numeric(24,8)")
    with engine.begin() as conn:
        conn.exec_driver_sql(ddl)
    migrate.upgrade(engine)
    drift = schema_check.check(engine)
    assert len(drift) == 1, drift
    assert drift[0].startswith("execution_tasks.input_tokens: type ")


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has neither numeric precision nor zones
def test_narrow_numeric_and_naive_timestamp_are_drift_on_postgres(engine, backend):
    ddl = FOREIGN_TASKS[backend].replace("cost numeric", "cost numeric(6,2)").replace(
        "finished_at timestamp with time zone", "finished_at timestamp")
    with engine.begin() as conn:
        conn.exec_driver_sql(ddl)
    migrate.upgrade(engine)
    drift = schema_check.check(engine)
    assert any(line.startswith("execution_tasks.cost: type") for line in drift), drift
    assert any(line.startswith("execution_tasks.finished_at: type") and "time zone" in line for line in drift)


def test_missing_index_and_key_are_reported(store):
    with store.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_execution_tasks_started_at")
    assert schema_check.check(store) == ["execution_tasks: index on (started_at) missing"]


def test_upgrade_sql_prints_and_changes_nothing(engine, backend, roi_env, capsys):
    _create_foreign(engine, backend)
    assert main(["db", "upgrade", "--sql"]) == 0
    sql = capsys.readouterr().out
    assert "ALTER TABLE execution_tasks ADD COLUMN ai_model" in sql
    assert "CREATE TABLE product_events" in sql
    assert "CREATE TABLE execution_tasks" not in sql
    if backend == "postgresql":
        assert "CREATE INDEX CONCURRENTLY ix_execution_tasks_started_at" in sql
    assert _tables(engine) == {"execution_tasks"}
    assert "execution_tasks.ai_model: missing" in schema_check.check(engine)


def test_every_table_of_the_schema_is_created(store):
    assert set(metadata.tables) <= _tables(store)


def test_unreachable_database_gets_a_plain_message(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ROI_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("roi: ") and "Traceback" not in err


def test_bad_revision_is_a_plain_error(store, roi_env, capsys):
    assert main(["db", "downgrade", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert "nonsense" in err and "Traceback" not in err


def test_a_drifted_store_is_a_plain_message_not_a_traceback(store, roi_env, capsys):
    with store.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE execution_tasks DROP COLUMN cost_micros")
    assert main(["kpis", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("roi: ") and "cost_micros" in err
