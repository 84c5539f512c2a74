"""The dashboard frame and its Overview page, run with Streamlit's AppTest against real stores."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import schema
from dashboard.ingest.writer import insert_rows
from dashboard.store import bump_data_version, set_meta

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
UTC = timezone.utc
HOSTILE = "x'; DROP TABLE stripe_charges; --"


@pytest.fixture
def app_env(db_url, monkeypatch, tmp_path):
    """The app's settings point at the test store; no stray secrets.toml is read."""
    monkeypatch.setenv("ROI_DATABASE_URL", db_url)
    monkeypatch.setenv("ROI_TIMEZONE", "UTC")
    monkeypatch.setenv("ROI_REPORTING_CURRENCY", "usd")
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    return db_url


def _bt(id_: str, created: datetime, category: str, amount: int, fee: int) -> dict:
    return {"id": id_, "livemode": False, "created": created, "raw": "{}", "synced_at": created, "type": category,
            "reporting_category": category, "amount": amount, "fee": fee, "net": amount - fee, "currency": "usd"}


def _charge(id_: str, created: datetime, status: str, customer: str) -> dict:
    return {"id": id_, "livemode": False, "created": created, "raw": "{}", "synced_at": created,
            "customer_id": customer, "amount": 1000, "currency": "usd", "status": status}


def _task(id_: str, started: datetime, status: str, micros: int) -> dict:
    return {"task_id": id_, "user_id": "u1", "task_type": "chat", "status": status, "started_at": started,
            "ai_model": "model-a", "cost_micros": micros}


def fill(engine: sa.Engine, now: datetime, demo: bool = False) -> None:
    """Two charges and three tasks in the last 30 days, one charge in the 30 days before."""
    recent, older = now - timedelta(days=1), now - timedelta(days=5)
    earlier = now - timedelta(days=40)
    with engine.begin() as conn:
        insert_rows(conn, schema.stripe_balance_transactions, [
            _bt("txn_1", recent, "charge", 10000, 320),
            _bt("txn_2", older, "charge", 5000, 175),
            _bt("txn_0", earlier, "charge", 8000, 262),
            _bt("txn_po", recent, "payout", -9000, 0),
        ])
        insert_rows(conn, schema.stripe_charges, [
            _charge("ch_1", recent, "succeeded", "cus_A"),
            _charge("ch_2", older, "succeeded", "cus_B"),
            _charge("ch_3", older, "succeeded", "cus_B"),
            _charge("ch_4", older, "failed", "cus_C"),
            _charge("ch_0", earlier, "succeeded", "cus_A"),
        ])
        insert_rows(conn, schema.execution_tasks, [
            _task("t1", recent, "succeeded", 1_000_000),
            _task("t2", older, "succeeded", 1_000_000),
            _task("t3", older, "failed", 1_000_000),
        ])
        if demo:
            set_meta(conn, "demo", "1")
        bump_data_version(conn)


def run_app(query_params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if query_params:
        at.query_params.update(query_params)
    at.run()
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def texts(elements) -> str:  # noqa: ANN001 - an AppTest element list
    return "\n".join(str(e.value) for e in elements)


def test_overview_shows_the_headline_figures(store, app_env):
    fill(store, datetime.now(UTC))
    at = run_app()
    assert not at.exception
    shown = metrics(at)
    assert shown["Net revenue"] == ("$145.05", "+87.5%")  # 9680 + 4825 against 7738
    assert shown["Gross revenue"][0] == "$150.00"
    assert shown["Stripe fees"][0] == "$4.95"
    assert shown["Refunds & disputes"][0] == "$0.00"
    assert shown["AI cost"][0] == "$3.00"
    assert shown["Tasks"][0] == "3"
    assert shown["Task success rate"][0] == "66.7%"
    assert shown["Failed-payment rate"] == ("25.0%", "+25.0 pp")
    assert shown["MRR"][0] == "—" and shown["Conversion rate"][0] == "—"
    assert not at.error and not at.warning
    assert "data updated just now" in texts(at.caption)


def test_delta_colours_say_whether_a_change_is_good_news(store, app_env):
    fill(store, datetime.now(UTC))
    at = run_app()
    colours = {m.label: m.proto.color for m in at.metric}
    # costs and failure rates rising is bad news: the colour is inverted, revenue is not
    assert colours["Stripe fees"] == colours["Failed-payment rate"] != colours["Net revenue"]


def test_revenue_chart_plots_net_revenue_per_day(store, app_env):
    fill(store, datetime.now(UTC))
    at = run_app()
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    spec = json.loads(charts[0].proto.spec)
    net = next(trace for trace in spec["data"] if trace["name"] == "Net revenue")
    assert net["type"] == "bar"
    assert sum(v for v in net["y"] if v is not None) == pytest.approx(145.05)
    assert len(net["x"]) == 30  # one bar per day of the last 30 days, empty days included


def test_demo_store_says_so(store, app_env):
    fill(store, datetime.now(UTC), demo=True)
    at = run_app()
    assert "Demo data" in texts(at.info)
    assert metrics(at)["Net revenue"][0] == "$145.05"


def test_empty_store_explains_how_to_load_data(store, app_env):
    at = run_app()
    assert not at.exception
    assert len(at.metric) == 0 and len(at.get("plotly_chart")) == 0
    message = texts(at.info)
    assert "roi demo" in message and "roi sync stripe" in message and "roi import" in message
    assert "Demo data" not in message


def test_store_without_schema_asks_for_an_upgrade(engine, app_env):
    at = run_app()
    assert not at.exception
    assert "roi db upgrade" in texts(at.warning)
    assert len(at.metric) == 0


def test_unreachable_database_is_a_plain_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ROI_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/x")
    monkeypatch.chdir(tmp_path)
    at = run_app()
    assert not at.exception
    message = texts(at.error)
    assert "cannot reach the store" in message and "127.0.0.1:1" in message
    assert "secret" not in message and "Traceback" not in message
    assert len(at.metric) == 0


def test_hostile_period_in_the_link_falls_back_to_the_default(store, app_env):
    fill(store, datetime.now(UTC))
    at = run_app({"period": HOSTILE})
    assert not at.exception
    assert "not one of the choices" in texts(at.warning)
    assert at.selectbox(key="period").value == "Last 30 days"
    assert metrics(at)["Net revenue"][0] == "$145.05"
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stripe_charges")).scalar_one() == 5


def test_a_link_with_a_preset_reopens_that_view(store, app_env):
    fill(store, datetime.now(UTC))
    at = run_app({"period": "Last 7 days"})
    assert not at.exception and not at.warning
    assert at.selectbox(key="period").value == "Last 7 days"
    # the 7 days before hold no revenue: there is no change to show, rather than a made-up one
    assert metrics(at)["Net revenue"] == ("$145.05", "—")


def test_a_link_with_a_custom_range_reopens_that_view(store, app_env):
    now = datetime.now(UTC)
    fill(store, now)
    day = (now - timedelta(days=5)).date().isoformat()
    at = run_app({"period": "Custom range", "from": day, "to": day})
    assert not at.exception and not at.warning
    shown = metrics(at)
    assert shown["Net revenue"][0] == "$48.25"  # only the charge of that day
    assert shown["Tasks"][0] == "2"


def test_invalid_dates_in_the_link_fall_back_with_a_notice(store, app_env):
    fill(store, datetime.now(UTC))
    at = run_app({"period": "Custom range", "from": "2026-13-45", "to": "<script>"})
    assert not at.exception
    warning = texts(at.warning)
    assert "'from' date" in warning and "'to' date" in warning
    assert metrics(at)["Net revenue"][0] == "$145.05"  # the default custom range: the last 30 days


def test_sql_behind_the_figures_is_shown_with_bound_values(store, app_env):
    fill(store, datetime.now(UTC))
    at = run_app()
    code = "\n".join(c.value for c in at.code)
    assert "FROM stripe_balance_transactions" in code and "FROM stripe_charges" in code
    assert HOSTILE not in code
    assert "Bound values" in texts(at.caption)


def test_roi_dashboard_on_an_unreachable_database_exits_with_a_message(monkeypatch, tmp_path, capsys):
    from dashboard.cli import main

    monkeypatch.setenv("ROI_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/x")
    monkeypatch.chdir(tmp_path)
    code = main(["dashboard", "--port", "8599"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "cannot reach the store" in err and "Traceback" not in err and "secret" not in err
