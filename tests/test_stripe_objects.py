"""Stripe objects -> store rows: the mapping shared by the Stripe sync, webhooks and the demo."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dashboard.ingest.stripe_objects import apply_objects, link_payout, record_subscription_state
from dashboard.schema import (
    stripe_balance_transactions,
    stripe_charges,
    stripe_customers,
    stripe_invoice_payments,
    stripe_invoices,
    stripe_prices,
    stripe_subscription_items,
    stripe_subscriptions,
    subscription_history,
)
from dashboard.store import get_meta
from dashboard.types import UTC

CREATED = 1_763_000_000  # 2025-11-13 02:13:20 UTC


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def customer(cid: str = "cus_A", **extra) -> dict:
    return {"id": cid, "object": "customer", "created": CREATED, "livemode": False, "email": "ada@example.com",
            "name": "Ada", "address": {"country": "GB"}, "metadata": {"user_id": "u_1"}, **extra}


def price(pid: str = "price_pro_month_usd", amount: int = 4900, interval: str = "month") -> dict:
    return {"id": pid, "object": "price", "created": CREATED, "livemode": False, "currency": "usd",
            "product": "prod_pro", "unit_amount": amount, "type": "recurring", "nickname": "Pro",
            "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"}, "active": True}


def subscription(status: str = "active", items: list[tuple] = (("price_pro_month_usd", 1),), **extra) -> dict:
    return {
        "id": "sub_A", "object": "subscription", "created": CREATED, "livemode": False, "customer": "cus_A",
        "status": status, "currency": "usd", "start_date": CREATED, "cancel_at_period_end": False,
        "items": {"object": "list", "has_more": False, "data": [
            {"id": f"si_{n}", "object": "subscription_item", "created": CREATED, "price": p, "quantity": q,
             "subscription": "sub_A"} for n, (p, q) in enumerate(items)]},
        "discounts": [],
        **extra,
    }


def charge(cid: str = "ch_A", **extra) -> dict:
    return {"id": cid, "object": "charge", "created": CREATED, "livemode": False, "amount": 4900,
            "amount_refunded": 0, "currency": "usd", "customer": "cus_A", "payment_intent": "pi_A",
            "status": "succeeded", "paid": True, "outcome": {"type": "authorized", "reason": None},
            "balance_transaction": "txn_A", **extra}


def bt(tid: str = "txn_A", **extra) -> dict:
    return {"id": tid, "object": "balance_transaction", "created": CREATED, "amount": 4900, "fee": 172,
            "net": 4728, "currency": "usd", "reporting_category": "charge", "type": "charge", "source": "ch_A",
            "status": "pending", "available_on": CREATED + 2 * 86400, **extra}


def rows(conn: sa.Connection, table: sa.Table) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()]


def test_invoices_reach_their_subscription_in_current_and_old_api_shapes(store: sa.Engine) -> None:
    current = {"id": "in_new", "object": "invoice", "created": CREATED, "livemode": False, "currency": "eur",
               "customer": {"id": "cus_A", "object": "customer"}, "status": "paid", "amount_due": 4500,
               "amount_paid": 4500, "total": 4500, "period_start": CREATED, "period_end": CREATED + 86400 * 30,
               "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_new"}}}
    old = {"id": "in_old", "object": "invoice", "created": CREATED, "livemode": False, "currency": "USD",
           "customer": "cus_A", "subscription": "sub_old", "status": "open", "amount_due": 100, "total": 100}
    with store.begin() as conn:
        counts = apply_objects(conn, [current, old])
        invoices = {r["id"]: r for r in rows(conn, stripe_invoices)}
    assert counts == {"invoice": 2}
    assert invoices["in_new"]["subscription_id"] == "sub_new"
    assert invoices["in_new"]["customer_id"] == "cus_A"
    assert invoices["in_new"]["period_end"] == at(CREATED + 86400 * 30)
    assert invoices["in_old"]["subscription_id"] == "sub_old"
    assert invoices["in_old"]["currency"] == "usd"
    assert invoices["in_old"]["amount_paid"] is None
    assert json.loads(invoices["in_new"]["raw"]) == current


def test_invoice_payments_link_an_invoice_to_its_payment_intent_or_charge(store: sa.Engine) -> None:
    by_intent = {"id": "inpay_1", "object": "invoice_payment", "created": CREATED, "livemode": False,
                 "invoice": "in_1", "amount_paid": 4900, "currency": "usd", "status": "paid",
                 "payment": {"type": "payment_intent", "payment_intent": "pi_1"}}
    by_charge = {"id": "inpay_2", "object": "invoice_payment", "created": CREATED, "livemode": False,
                 "invoice": {"id": "in_2", "object": "invoice"}, "status": "paid",
                 "payment": {"type": "charge", "charge": {"id": "ch_2", "object": "charge"}}}
    with store.begin() as conn:
        apply_objects(conn, [by_intent, by_charge])
        payments = {r["id"]: r for r in rows(conn, stripe_invoice_payments)}
    assert (payments["inpay_1"]["invoice_id"], payments["inpay_1"]["payment_intent_id"]) == ("in_1", "pi_1")
    assert payments["inpay_1"]["charge_id"] is None
    assert (payments["inpay_2"]["invoice_id"], payments["inpay_2"]["charge_id"]) == ("in_2", "ch_2")


def test_expanded_references_are_stored_as_ids_and_expanded_objects_are_kept(store: sa.Engine) -> None:
    expanded = charge(customer=customer(), balance_transaction=bt(),
                      payment_intent={"id": "pi_A", "object": "payment_intent"})
    with store.begin() as conn:
        counts = apply_objects(conn, [expanded])
        stored = rows(conn, stripe_charges)[0]
        txns = rows(conn, stripe_balance_transactions)
    assert counts == {"charge": 1, "balance_transaction": 1}
    assert (stored["customer_id"], stored["payment_intent_id"], stored["balance_transaction_id"]) == (
        "cus_A", "pi_A", "txn_A")
    assert [(t["id"], t["source_id"], t["net"]) for t in txns] == [("txn_A", "ch_A", 4728)]


def test_a_failed_charge_keeps_its_decline_reason_and_card_country(store: sa.Engine) -> None:
    failed = charge("ch_F", status="failed", paid=False, balance_transaction=None,
                    failure_code="card_declined", failure_message="Your card has insufficient funds.",
                    outcome={"type": "issuer_declined", "reason": "insufficient_funds",
                             "network_status": "declined_by_network"},
                    billing_details={"address": {"country": None}},
                    payment_method_details={"type": "card", "card": {"country": "DE", "brand": "visa"}})
    with store.begin() as conn:
        apply_objects(conn, [failed])
        stored = rows(conn, stripe_charges)[0]
    assert stored["status"] == "failed" and stored["paid"] is False
    assert (stored["failure_code"], stored["outcome_type"], stored["outcome_reason"]) == (
        "card_declined", "issuer_declined", "insufficient_funds")
    assert stored["failure_message"] == "Your card has insufficient funds."
    assert stored["billing_country"] == "DE"
    assert stored["balance_transaction_id"] is None


def test_a_balance_transaction_keeps_the_exact_exchange_rate_stripe_sent(store: sa.Engine) -> None:
    text = ('{"id": "txn_X", "object": "balance_transaction", "created": 1763000000, "amount": 5321, "fee": 314,'
            ' "net": 5007, "currency": "usd", "exchange_rate": 1.1, "reporting_category": "charge",'
            ' "type": "charge", "source": {"id": "ch_X", "object": "charge"}, "status": "available",'
            ' "available_on": 1763164800}')
    other = json.loads(text.replace("txn_X", "txn_Y").replace("1.1,", "1.0853271,"))
    with store.begin() as conn:
        apply_objects(conn, [json.loads(text), other])
        txns = {r["id"]: r for r in rows(conn, stripe_balance_transactions)}
    assert txns["txn_X"]["exchange_rate"] == Decimal("1.1")  # not 1.100000000000000088817841970012523
    assert str(txns["txn_Y"]["exchange_rate"]) == "1.0853271"
    assert txns["txn_X"]["source_id"] == "ch_X"
    assert txns["txn_X"]["available_on"] == at(1_763_164_800)
    assert txns["txn_X"]["amount"] - txns["txn_X"]["fee"] == txns["txn_X"]["net"]


def test_applying_the_same_objects_again_changes_nothing_and_newer_versions_update(store: sa.Engine) -> None:
    objects = [customer(), price(), subscription(), charge(), bt()]
    with store.begin() as conn:
        first_counts = apply_objects(conn, objects)
        before = {t.name: rows(conn, t) for t in (stripe_customers, stripe_charges, stripe_subscription_items)}
    with store.begin() as conn:
        apply_objects(conn, objects, synced_at=before["stripe_charges"][0]["synced_at"])
        after = {t.name: rows(conn, t) for t in (stripe_customers, stripe_charges, stripe_subscription_items)}
    assert first_counts == {"customer": 1, "price": 1, "subscription": 1, "subscription_item": 1, "charge": 1,
                            "balance_transaction": 1}
    assert after == before
    with store.begin() as conn:
        apply_objects(conn, [charge(amount_refunded=4900, refunded=True)])
        stored = rows(conn, stripe_charges)
    assert len(stored) == 1 and stored[0]["refunded"] is True and stored[0]["amount_refunded"] == 4900


def test_subscription_items_follow_the_subscription(store: sa.Engine) -> None:
    with store.begin() as conn:
        apply_objects(conn, [subscription(items=[("price_starter", 1), ("price_seats", 3)])])
        apply_objects(conn, [subscription(items=[("price_seats", 5)])])
        items = rows(conn, stripe_subscription_items)
    assert [(i["id"], i["price_id"], i["quantity"], i["subscription_id"]) for i in items] == [
        ("si_0", "price_seats", 5, "sub_A")]


def test_expanded_prices_inside_subscription_items_are_stored(store: sa.Engine) -> None:
    with store.begin() as conn:
        apply_objects(conn, [subscription(items=[(price("price_team_year_eur", 27000, "year"), 4)])])
        prices = rows(conn, stripe_prices)
        items = rows(conn, stripe_subscription_items)
    assert [(p["id"], p["unit_amount"], p["recurring_interval"]) for p in prices] == [
        ("price_team_year_eur", 27000, "year")]
    assert items[0]["price_id"] == "price_team_year_eur"


def test_coupons_are_read_from_current_discounts_and_the_older_discount_field(store: sa.Engine) -> None:
    coupon = {"id": "FOREVER20", "object": "coupon", "duration": "forever", "percent_off": 20.0,
              "amount_off": None, "currency": None}
    current = subscription(discounts=[{"id": "di_1", "object": "discount", "source": {"type": "coupon",
                                                                                      "coupon": coupon}}])
    older = {**subscription(), "id": "sub_B", "discounts": ["di_2"],
             "discount": {"id": "di_2", "object": "discount", "coupon": {**coupon, "percent_off": 12.5}}}
    with store.begin() as conn:
        apply_objects(conn, [current, older])
        subs = {r["id"]: r for r in rows(conn, stripe_subscriptions)}
    assert (subs["sub_A"]["discount_coupon_id"], subs["sub_A"]["discount_duration"]) == ("FOREVER20", "forever")
    assert subs["sub_A"]["discount_percent_off"] == Decimal(20)
    assert subs["sub_B"]["discount_percent_off"] == Decimal("12.5")


def test_test_and_live_mode_data_never_mix(store: sa.Engine) -> None:
    with store.begin() as conn:
        apply_objects(conn, [customer()])
        assert get_meta(conn, "livemode") == "false"
    with pytest.raises(ValueError, match="live-mode data but this store holds test-mode data"):
        with store.begin() as conn:
            apply_objects(conn, [charge(livemode=True)])
    with store.connect() as conn:
        assert rows(conn, stripe_charges) == []


def test_unknown_types_are_skipped_and_missing_optional_fields_do_not_fail(store: sa.Engine) -> None:
    bare_charge = {"id": "ch_bare", "object": "charge", "created": CREATED, "amount": 100, "currency": "usd",
                   "status": "succeeded"}
    with store.begin() as conn:
        counts = apply_objects(conn, [{"id": "tr_1", "object": "transfer"}, bare_charge,
                                      {"id": "cus_Z", "object": "customer", "created": CREATED}])
        stored = rows(conn, stripe_charges)[0]
        cust = rows(conn, stripe_customers)[0]
    assert counts == {"charge": 1, "customer": 1}
    assert stored["customer_id"] is None and stored["outcome_reason"] is None and stored["billing_country"] is None
    assert cust["user_id"] is None and cust["country"] is None


def test_a_deleted_customer_is_flagged_not_lost(store: sa.Engine) -> None:
    with store.begin() as conn:
        apply_objects(conn, [customer()])
        apply_objects(conn, [{"id": "cus_A", "object": "customer", "deleted": True}])
        stored = rows(conn, stripe_customers)
    assert len(stored) == 1 and stored[0]["deleted"] is True and stored[0]["user_id"] == "u_1"


def test_link_payout_marks_transactions_and_survives_a_resync(store: sa.Engine) -> None:
    payout_bt = bt("txn_P", amount=-4728, fee=0, net=-4728, type="payout", reporting_category="payout",
                   source="po_1")
    payout = {"id": "po_1", "object": "payout", "created": CREATED, "livemode": False, "amount": 4728,
              "currency": "usd", "status": "paid", "arrival_date": CREATED + 86400, "automatic": True,
              "balance_transaction": "txn_P"}
    with store.begin() as conn:
        apply_objects(conn, [bt(), payout_bt, payout])
        assert link_payout(conn, "po_1", ["txn_A", "txn_P", "txn_unknown"]) == 2
        apply_objects(conn, [bt(status="available")])
        txns = {r["id"]: r for r in rows(conn, stripe_balance_transactions)}
    assert {t["payout_id"] for t in txns.values()} == {"po_1"}
    assert txns["txn_A"]["status"] == "available"
    assert sum(t["net"] for t in txns.values() if t["type"] != "payout") == payout["amount"]


def history(conn: sa.Connection) -> list[tuple]:
    return [(r["valid_from"], r["status"], json.loads(r["items"]), r["discount"] and json.loads(r["discount"]))
            for r in rows(conn, subscription_history)]


def test_subscription_history_records_each_change_once(store: sa.Engine) -> None:
    t0 = at(CREATED)
    once = {"id": "LAUNCH50", "object": "coupon", "duration": "once", "percent_off": 50, "amount_off": None,
            "currency": None}
    with_coupon = subscription("trialing", discounts=[{"id": "di_1", "object": "discount",
                                                       "source": {"type": "coupon", "coupon": once}}])
    with store.begin() as conn:
        record_subscription_state(conn, with_coupon, t0, "evt_1")
        record_subscription_state(conn, with_coupon, t0 + timedelta(days=1), "evt_2")  # same state
        record_subscription_state(conn, subscription("active"), t0 + timedelta(days=7), "evt_3")
        record_subscription_state(conn, subscription("active", items=[("price_team", 3)]),
                                  t0 + timedelta(days=37), "evt_4")
        record_subscription_state(conn, subscription("active", items=[("price_team", 3)]),
                                  t0 + timedelta(days=37), "evt_4")  # replayed
        recorded = history(conn)
        customers = {r["customer_id"] for r in rows(conn, subscription_history)}
    assert recorded == [
        (t0, "trialing", [{"price_id": "price_pro_month_usd", "quantity": 1}],
         {"duration": "once", "percent_off": 50, "amount_off": None, "currency": None}),
        (t0 + timedelta(days=7), "active", [{"price_id": "price_pro_month_usd", "quantity": 1}], None),
        (t0 + timedelta(days=37), "active", [{"price_id": "price_team", "quantity": 3}], None),
    ]
    assert customers == {"cus_A"}


def test_subscription_history_upserts_a_correction_at_the_same_instant(store: sa.Engine) -> None:
    t0 = at(CREATED)
    with store.begin() as conn:
        record_subscription_state(conn, subscription("trialing"), t0, "snapshot")
        record_subscription_state(conn, subscription("past_due"), t0 + timedelta(days=3), "evt_1")
        record_subscription_state(conn, subscription("active"), t0 + timedelta(days=3), "evt_2")
        recorded = [(valid_from, status) for valid_from, status, _, _ in history(conn)]
    assert recorded == [(t0, "trialing"), (t0 + timedelta(days=3), "active")]


def test_a_naive_valid_from_is_refused(store: sa.Engine) -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        with store.begin() as conn:
            record_subscription_state(conn, subscription(), datetime(2025, 1, 1), "snapshot")
