"""`roi dashboard` in a real browser: the Overview renders its figures, with no developer chrome.

Runs the installed `roi` command as a user would (from an unrelated directory), drives it with
Playwright and Debian's Chromium, and saves screenshots under test-output/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import skip_or_fail

from dashboard import schema
from dashboard.components.formatting import format_period
from dashboard.components.period_filter import preset_period
from dashboard.ingest.writer import insert_rows
from dashboard.migrate import upgrade
from dashboard.money import format_amount
from dashboard.store import bump_data_version, make_engine
from queries.kpis import headline_kpis

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
UTC = timezone.utc


def _require_browser() -> None:
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the playwright module is not installed"
    if reason is None and not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if reason:
        skip_or_fail(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fill(url: str, now: datetime) -> None:
    engine = make_engine(url)
    upgrade(engine)
    rows, charges, tasks = [], [], []
    for i in range(40):
        created = now - timedelta(days=i % 55, hours=i % 7)
        amount = (19, 49, 99)[i % 3] * 100
        fee = amount * 29 // 1000 + 30
        rows.append({"id": f"txn_{i}", "livemode": False, "created": created, "raw": "{}", "synced_at": now,
                     "type": "charge", "reporting_category": "charge", "amount": amount, "fee": fee,
                     "net": amount - fee, "currency": "usd"})
        charges.append({"id": f"ch_{i}", "livemode": False, "created": created, "raw": "{}", "synced_at": now,
                        "customer_id": f"cus_{i % 9}", "amount": amount, "currency": "usd",
                        "status": "failed" if i % 6 == 0 else "succeeded"})
        tasks.append({"task_id": f"t_{i}", "user_id": f"u{i % 9}", "task_type": "chat", "started_at": created,
                      "status": "failed" if i % 5 == 0 else "succeeded", "ai_model": "model-a",
                      "cost_micros": 150_000 + i * 1_000})
    refund = {"id": "txn_re", "livemode": False, "created": now - timedelta(days=2), "raw": "{}", "synced_at": now,
              "type": "refund", "reporting_category": "refund", "amount": -1900, "fee": 0, "net": -1900,
              "currency": "usd"}
    with engine.begin() as conn:
        insert_rows(conn, schema.stripe_balance_transactions, [*rows, refund])
        insert_rows(conn, schema.stripe_charges, charges)
        insert_rows(conn, schema.execution_tasks, tasks)
        bump_data_version(conn)
    engine.dispose()


@pytest.fixture
def dashboard_url(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A running `roi dashboard` on a free port over a small SQLite store; yields (base URL, store URL)."""
    _require_browser()
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _fill(store_url, datetime.now(UTC))
    port = _free_port()
    roi = Path(sys.executable).with_name("roi")
    command = [str(roi)] if roi.exists() else [sys.executable, "-m", "dashboard.cli"]
    env = {**os.environ, "ROI_DATABASE_URL": store_url, "ROI_TIMEZONE": "UTC", "ROI_REPORTING_CURRENCY": "usd"}
    env.pop("STRIPE_API_KEY", None)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    log_path = tmp_path / "dashboard.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*command, "dashboard", "--port", str(port)], cwd=workdir, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"roi dashboard exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"roi dashboard did not listen on port {port}:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", store_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _expected_net_revenue(store_url: str) -> str:
    zone = ZoneInfo("UTC")
    period = preset_period("30d", datetime.now(zone).date(), zone)
    engine = make_engine(store_url)
    with engine.connect() as conn:
        figures = headline_kpis(conn, period, "usd", zone)
    engine.dispose()
    return format_amount(figures["net_revenue"], "usd")


def test_overview_in_a_real_browser(dashboard_url):
    from playwright.sync_api import sync_playwright

    base, store_url = dashboard_url
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            # tall enough that the screenshot shows the whole page (Streamlit scrolls inside the app)
            page = browser.new_page(viewport={"width": 1440, "height": 1500})
            page.goto(base, wait_until="domcontentloaded")
            page.wait_for_selector(READY, timeout=60_000)
            page.wait_for_selector("[data-testid='stMetric']", timeout=30_000)
            page.wait_for_selector(".js-plotly-plot", timeout=30_000)
            page.wait_for_selector(READY, timeout=30_000)

            card = page.locator("[data-testid='stMetric']").filter(has_text="Net revenue").first
            shown = card.locator("[data-testid='stMetricValue']").inner_text().strip()
            assert shown == _expected_net_revenue(store_url)
            assert page.locator("[data-testid='stMetric']").count() == 12
            assert page.locator(".js-plotly-plot").count() == 2
            body = page.locator("body").inner_text()
            assert "Traceback" not in body and "Demo data" not in body
            # viewers get the product, not the developer menu
            assert page.locator("[data-testid='stAppDeployButton']").count() == 0
            page.screenshot(path=str(OUTPUT / "overview.png"), full_page=True)

            # a shared link reopens the same view
            page.goto(f"{base}/?period=Last+7+days", wait_until="domcontentloaded")
            page.wait_for_selector(READY, timeout=60_000)
            page.wait_for_selector("[data-testid='stMetric']", timeout=30_000)
            page.wait_for_selector(READY, timeout=30_000)
            zone = ZoneInfo("UTC")
            week = format_period(preset_period("7d", datetime.now(zone).date(), zone), zone)
            assert week in page.locator("[data-testid='stMain']").inner_text()
            page.screenshot(path=str(OUTPUT / "overview-last-7-days.png"), full_page=True)
        finally:
            browser.close()
