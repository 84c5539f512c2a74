"""`roi demo`: a reproducible demo dataset whose figures hold together like real data."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dashboard.cli import main
from dashboard.ingest.demo import DemoSummary, generate
from dashboard.ingest.demo_world import DECLINES
from dashboard.money import round_half_even
from dashboard.schema import (
    execution_tasks,
    fx_rates,
    metadata,
    product_events,
    store_meta,
    stripe_balance_transactions,
    stripe_charges,
    stripe_payouts,
    stripe_subscriptions,
    subscription_history,
)
from dashboard.types import UTC

EVENTS = 3000
SEED = 11
END = date(2025, 11, 20)
FIRST = END - timedelta(days=364)
VOLATILE_META = {"data_version", "updated_at"}


@pytest.fixture
def demo(store: sa.Engine) -> tuple[sa.Engine, DemoSummary]:
    return store, generate(store, events=EVENTS, seed=SEED, end=END, progress=False)


def select_all(conn: sa.Connection, table: sa.Table) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()]


def contents(engine: sa.Engine) -> dict[str, list]:
    with engine.connect() as conn:
        snapshot = {t.name: select_all(conn, t) for t in metadata.sorted_tables if t is not store_meta}
        snapshot["store_meta"] = [r for r in select_all(conn, store_meta) if r["key"] not in VOLATILE_META]
    return snapshot


def empty_store(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


def test_same_seed_and_end_give_the_same_store_and_another_seed_does_not(store: sa.Engine) -> None:
    generate(store, events=EVENTS, seed=SEED, end=END, progress=False)
    first = contents(store)
    empty_store(store)
    generate(store, events=EVENTS, seed=SEED, end=END, progress=False)
    assert contents(store) == first
    empty_store(store)
    generate(store, events=EVENTS, seed=SEED + 1, end=END, progress=False)
    other = contents(store)
    assert other["stripe_charges"] != first["stripe_charges"]
    assert other["product_events"] != first["product_events"]
    assert json.loads(next(r["value"] for r in other["store_meta"] if r["key"] == "demo_planted")) != json.loads(
        next(r["value"] for r in first["store_meta"] if r["key"] == "demo_planted"))


def test_the_demo_has_exactly_the_events_asked_for_and_says_what_it_wrote(demo) -> None:
    engine, summary = demo
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(product_events)).scalar_one()
        charges = conn.execute(sa.select(sa.func.count()).select_from(stripe_charges)).scalar_one()
        first_ts, last_ts = conn.execute(sa.select(sa.func.min(product_events.c.ts),
                                                   sa.func.max(product_events.c.ts))).one()
    assert stored == summary.events == EVENTS
    assert summary.charges == charges > 0 and summary.failed_charges > 0 and summary.customers > 0
    assert datetime.combine(FIRST, time(), UTC) <= first_ts and last_ts < datetime.combine(END, time(), UTC) + \
        timedelta(days=1)
    text = summary.describe()
    assert f"{EVENTS:,} product events" in text
    assert f"{summary.charges:,} charges ({summary.failed_charges:,} failed)" in text
    assert "payment_outage" in text and "model_failure_spike" in text and "channel_conversion_collapse" in text


def test_every_payout_equals_the_sum_of_its_balance_transactions(demo) -> None:
    engine, summary = demo
    with engine.connect() as conn:
        payouts = select_all(conn, stripe_payouts)
        txns = select_all(conn, stripe_balance_transactions)
    by_payout = defaultdict(list)
    for txn in txns:
        by_payout[txn["payout_id"]].append(txn)
    assert len(payouts) == summary.payouts > 0
    for payout in payouts:
        linked = by_payout[payout["id"]]
        own = [t for t in linked if t["type"] == "payout"]
        assert [t["id"] for t in own] == [payout["balance_transaction_id"]]
        assert own[0]["amount"] == -payout["amount"]
        assert sum(t["net"] for t in linked if t["type"] != "payout") == payout["amount"] > 0
    # only what had not become available by the end of the data is left unpaid
    unpaid = [t for t in by_payout[None] if t["status"] == "available"]
    assert sum(t["net"] for t in unpaid) <= 0 or all(t["available_on"].date() >= END for t in unpaid)


def test_each_balance_transaction_nets_its_fee(demo) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        txns = select_all(conn, stripe_balance_transactions)
    assert {t["reporting_category"] for t in txns} >= {"charge", "payout"}
    assert all(t["net"] == t["amount"] - t["fee"] for t in txns)
    assert all(t["fee"] > 0 for t in txns if t["reporting_category"] == "charge")
    assert {t["currency"] for t in txns} == {"usd"}


def test_eur_and_gbp_charges_settle_in_usd_at_that_days_fx_rate(demo) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        rates = {(r["date"], r["currency"]): r["rate"] for r in select_all(conn, fx_rates)}
        txns = {t["id"]: t for t in select_all(conn, stripe_balance_transactions)}
        charges = [c for c in select_all(conn, stripe_charges) if c["status"] == "succeeded"]
    foreign = [c for c in charges if c["currency"] != "usd"]
    assert {c["currency"] for c in foreign} == {"eur", "gbp"}
    assert len(rates) == 2 * 365
    for c in foreign:
        txn = txns[c["balance_transaction_id"]]
        rate = rates[(txn["created"].date(), c["currency"])]
        assert txn["currency"] == "usd"
        assert txn["exchange_rate"] == rate
        assert txn["amount"] == round_half_even(Decimal(c["amount"]) * rate)
    for c in charges:
        if c["currency"] == "usd":
            assert txns[c["balance_transaction_id"]]["exchange_rate"] is None


def test_failed_charges_carry_real_stripe_decline_codes(demo) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        failed = [c for c in select_all(conn, stripe_charges) if c["status"] == "failed"]
    assert failed
    codes = {"card_declined", "expired_card", "incorrect_cvc", "processing_error"}
    for c in failed:
        assert c["failure_code"] in codes and c["failure_message"]
        assert c["outcome_reason"] in DECLINES
        assert c["outcome_type"] in ("issuer_declined", "blocked")
        assert c["paid"] is False and c["balance_transaction_id"] is None


def test_every_task_run_event_has_its_task_on_one_of_several_models(demo) -> None:
    engine, summary = demo
    with engine.connect() as conn:
        runs = [r for r in select_all(conn, product_events) if r["event"] == "task_run"]
        tasks = {t["task_id"]: t for t in select_all(conn, execution_tasks)}
    assert len(runs) == len(tasks) == summary.tasks > 0
    for run in runs:
        task = tasks[json.loads(run["properties"])["task_id"]]
        assert (task["user_id"], task["started_at"]) == (run["user_id"], run["ts"])
        assert json.loads(run["properties"])["ai_model"] == task["ai_model"]
    assert len({t["ai_model"] for t in tasks.values()}) >= 4
    assert {t["status"] for t in tasks.values()} == {"succeeded", "failed", "cancelled"}
    assert all(t["error"] for t in tasks.values() if t["status"] != "succeeded")
    assert all(t["cost_micros"] is not None and t["cost_micros"] >= 0 for t in tasks.values())


def test_people_walk_the_funnel_in_order(demo) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        events = select_all(conn, product_events)
    first_seen: dict[tuple, datetime] = {}
    for e in sorted(events, key=lambda e: e["ts"]):
        first_seen.setdefault((e["user_id"], e["event"]), e["ts"])
    signups = [e for e in events if e["event"] == "signup"]
    assert signups and all(e["anonymous_id"] and e["user_id"] for e in signups)
    for e in events:
        if e["event"] == "paid":
            assert first_seen[(e["user_id"], "checkout_started")] < e["ts"]
        if e["event"] == "checkout_started":
            assert first_seen[(e["user_id"], "signup")] < e["ts"]
    assert 0 < sum(not e["consent"] for e in events) < 0.1 * len(events)
    assert {e["channel"] for e in events} >= {"organic", "paid_search", "social", "referral", "email"}


def test_subscription_history_is_time_ordered_and_starts_at_creation(demo) -> None:
    engine, summary = demo
    with engine.connect() as conn:
        subs = select_all(conn, stripe_subscriptions)
        rows = select_all(conn, subscription_history)
    by_sub = defaultdict(list)
    for row in rows:
        by_sub[row["subscription_id"]].append(row)
    assert len(subs) == summary.subscriptions > 0
    for sub in subs:
        states = sorted(by_sub[sub["id"]], key=lambda r: r["valid_from"])
        assert states[0]["valid_from"] == sub["created"]
        assert states[-1]["status"] == sub["status"]
        assert all(a["valid_from"] < b["valid_from"] for a, b in zip(states, states[1:]))
        assert all((a["status"], a["items"], a["discount"]) != (b["status"], b["items"], b["discount"])
                   for a, b in zip(states, states[1:]))
    assert {r["status"] for r in rows} >= {"active", "trialing", "canceled"}


def test_planted_anomalies_are_recorded_inside_the_data_range(demo) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        meta = {r["key"]: r["value"] for r in select_all(conn, store_meta)}
    assert meta["demo"] == "1"
    assert meta["livemode"] == "false"
    planted = json.loads(meta["demo_planted"])
    assert {p["kind"] for p in planted} == {"model_failure_spike", "payment_outage", "channel_conversion_collapse"}
    for p in planted:
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
        assert FIRST <= start <= end <= END
        assert p["series"] and p["size"] > 0


def test_the_model_failure_spike_shows_in_the_tasks(store: sa.Engine) -> None:
    engine = store
    generate(engine, events=20_000, seed=SEED, end=END, progress=False)  # enough tasks to see a week
    with engine.connect() as conn:
        spike = next(p for p in json.loads(conn.execute(
            sa.select(store_meta.c.value).where(store_meta.c.key == "demo_planted")).scalar_one())
            if p["kind"] == "model_failure_spike")
        tasks = select_all(conn, execution_tasks)
    model = spike["series"].split("=", 1)[1]
    start, end = date.fromisoformat(spike["start"]), date.fromisoformat(spike["end"])
    during = [t for t in tasks if t["ai_model"] == model and start <= t["started_at"].date() <= end]
    outside = [t for t in tasks if t["ai_model"] == model and not start <= t["started_at"].date() <= end]
    rate = lambda ts: sum(t["status"] == "failed" for t in ts) / max(len(ts), 1)  # noqa: E731
    assert during and rate(during) > 3 * rate(outside)


def test_roi_demo_refuses_a_store_that_already_holds_data(roi_env: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "--events", "400", "--seed", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "400 product events" in out
    assert main(["demo", "--events", "400", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "needs an empty store" in err and "Traceback" not in err
