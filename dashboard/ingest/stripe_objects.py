"""Stripe API objects (dicts, as ``StripeObject.to_dict()`` gives them) to rows of the stripe_* tables.

The one mapping used by the Stripe sync, the webhook receiver and the demo generator:

- rows are upserted by Stripe id, so applying the same object twice changes nothing and a
  newer version of an object replaces the older one;
- ``raw`` keeps the whole object as canonical JSON (sorted keys, no spaces; Decimals as text,
  as the SDK's ``to_dict(for_json=True)`` writes them);
- epoch seconds become aware UTC datetimes; a missing optional field becomes NULL;
- a reference may be an id or an expanded object; expanded objects of known types found in
  the usual places (a charge's balance transaction, a dispute's balance transactions, a
  subscription item's price, an invoice's payments, ...) are stored too;
- the store's mode (test or live) is fixed by the first object that says it; an object of the
  other mode is refused with :class:`ValueError`.

Shapes follow the current API and accept older ones: an invoice reaches its subscription
through ``parent.subscription_details.subscription`` (older: ``invoice.subscription``); charges
carry no invoice (``invoice_payment`` links an invoice to its payment intent or charge); a
subscription's coupon is under ``discounts`` (older: ``discount``) and a discount's coupon under
``source.coupon`` (older: ``coupon``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dashboard.ingest.writer import insert_rows
from dashboard.schema import (
    stripe_balance_transactions,
    stripe_charges,
    stripe_customers,
    stripe_disputes,
    stripe_invoice_payments,
    stripe_invoices,
    stripe_payouts,
    stripe_prices,
    stripe_products,
    stripe_refunds,
    stripe_subscription_items,
    stripe_subscriptions,
    subscription_history,
)
from dashboard.store import get_meta, set_meta
from dashboard.types import UTC

log = logging.getLogger(__name__)

Row = dict[str, Any]
FLUSH_ROWS = 5_000
_ID_CHUNK = 500


# --- small readers -------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 kept, Decimals as their exact text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return int(value.timestamp())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def ts(value: Any) -> datetime | None:
    """An aware UTC datetime from Stripe's epoch seconds (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(int(value), UTC)


def ref_id(value: Any) -> str | None:
    """The id of a reference that may be an id, an expanded object or missing."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("id")
    return str(value)


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def exact_decimal(value: Any) -> Decimal | None:
    """A Decimal from a JSON number without float arithmetic: the shortest text of a parsed
    float is the text Stripe sent, and Decimals or strings are taken as they are."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def _data(listish: Any) -> list[Any]:
    """The elements of a Stripe list object (``{"object": "list", "data": [...]}``) or a plain list."""
    if isinstance(listish, dict):
        data = listish.get("data")
        return list(data) if isinstance(data, list) else []
    if isinstance(listish, list):
        return listish
    return []


def _expanded(value: Any, kind: str) -> dict | None:
    if isinstance(value, dict) and value.get("object") == kind and value.get("id"):
        return value
    return None


# --- one mapper per object type -------------------------------------------------------------


def _base(obj: dict, livemode: bool, synced_at: datetime) -> Row:
    return {
        "id": obj["id"],
        "livemode": livemode,
        "created": ts(obj.get("created")) or synced_at,
        "raw": canonical_json(obj),
        "synced_at": synced_at,
    }


def _customer(obj: dict) -> Row:
    metadata = obj.get("metadata") or {}
    return {
        "email": obj.get("email"),
        "name": obj.get("name"),
        "country": _get(obj, "address", "country") or _get(obj, "shipping", "address", "country"),
        "user_id": metadata.get("user_id") or None,
        "deleted": bool(obj.get("deleted", False)),
    }


def _product(obj: dict) -> Row:
    return {"name": obj.get("name"), "active": bool(obj.get("active", True))}


def _price(obj: dict) -> Row:
    recurring = obj.get("recurring") or {}
    return {
        "product_id": ref_id(obj.get("product")),
        "nickname": obj.get("nickname"),
        "currency": (obj.get("currency") or "").lower(),
        "unit_amount": obj.get("unit_amount"),
        "type": obj.get("type"),
        "recurring_interval": recurring.get("interval"),
        "recurring_interval_count": recurring.get("interval_count"),
        "usage_type": recurring.get("usage_type"),
        "active": bool(obj.get("active", True)),
    }


def coupon_of(subscription: dict) -> tuple[str | None, dict | None]:
    """The (coupon id, expanded coupon or None) of a subscription's first discount, any API version."""
    candidates: list[Any] = list(_data(subscription.get("discounts")))
    if subscription.get("discount"):
        candidates.append(subscription["discount"])
    for discount in candidates:
        if not isinstance(discount, dict):
            continue  # an unexpanded discount id says nothing about its coupon
        coupon = discount.get("coupon") or _get(discount, "source", "coupon")
        if coupon:
            return ref_id(coupon), coupon if isinstance(coupon, dict) else None
    return None, None


def discount_state(subscription: dict) -> dict | None:
    """``{"duration", "percent_off", "amount_off", "currency"}`` of the subscription's coupon, or None."""
    _, coupon = coupon_of(subscription)
    if coupon is None:
        return None
    percent = exact_decimal(coupon.get("percent_off"))
    if percent is not None:
        percent = int(percent) if percent == percent.to_integral_value() else float(percent)
    return {
        "duration": coupon.get("duration"),
        "percent_off": percent,
        "amount_off": coupon.get("amount_off"),
        "currency": (coupon.get("currency") or None) and coupon["currency"].lower(),
    }


def _subscription(obj: dict) -> Row:
    coupon_id, coupon = coupon_of(obj)
    coupon = coupon or {}
    return {
        "customer_id": ref_id(obj.get("customer")),
        "status": obj.get("status") or "unknown",
        "currency": (obj.get("currency") or None) and obj["currency"].lower(),
        "start_date": ts(obj.get("start_date")),
        "trial_start": ts(obj.get("trial_start")),
        "trial_end": ts(obj.get("trial_end")),
        "cancel_at_period_end": bool(obj.get("cancel_at_period_end", False)),
        "canceled_at": ts(obj.get("canceled_at")),
        "ended_at": ts(obj.get("ended_at")),
        "discount_coupon_id": coupon_id,
        "discount_duration": coupon.get("duration"),
        "discount_percent_off": exact_decimal(coupon.get("percent_off")),
        "discount_amount_off": coupon.get("amount_off"),
        "discount_currency": (coupon.get("currency") or None) and coupon["currency"].lower(),
    }


def _subscription_item(obj: dict) -> Row:
    return {
        "subscription_id": ref_id(obj.get("subscription")) or "",
        "price_id": ref_id(obj.get("price")) or ref_id(obj.get("plan")) or "",
        "quantity": obj.get("quantity"),
    }


def invoice_subscription_id(invoice: dict) -> str | None:
    """The invoice's subscription: ``parent.subscription_details.subscription`` or, before the
    2025 API, the top-level ``subscription``."""
    return ref_id(_get(invoice, "parent", "subscription_details", "subscription")) or ref_id(
        invoice.get("subscription")
    )


def _invoice(obj: dict) -> Row:
    return {
        "customer_id": ref_id(obj.get("customer")),
        "subscription_id": invoice_subscription_id(obj),
        "status": obj.get("status"),
        "currency": (obj.get("currency") or "").lower(),
        "amount_due": obj.get("amount_due"),
        "amount_paid": obj.get("amount_paid"),
        "total": obj.get("total"),
        "period_start": ts(obj.get("period_start")),
        "period_end": ts(obj.get("period_end")),
    }


def _invoice_payment(obj: dict) -> Row:
    payment = obj.get("payment") or {}
    return {
        "invoice_id": ref_id(obj.get("invoice")) or "",
        "payment_intent_id": ref_id(payment.get("payment_intent")),
        "charge_id": ref_id(payment.get("charge")),
        "amount_paid": obj.get("amount_paid"),
        "currency": (obj.get("currency") or None) and obj["currency"].lower(),
        "status": obj.get("status"),
    }


def _charge(obj: dict) -> Row:
    outcome = obj.get("outcome") or {}
    country = _get(obj, "billing_details", "address", "country") or _get(
        obj, "payment_method_details", "card", "country"
    )
    return {
        "customer_id": ref_id(obj.get("customer")),
        "payment_intent_id": ref_id(obj.get("payment_intent")),
        "amount": obj.get("amount") or 0,
        "amount_refunded": obj.get("amount_refunded") or 0,
        "currency": (obj.get("currency") or "").lower(),
        "status": obj.get("status") or "unknown",
        "paid": bool(obj.get("paid", False)),
        "refunded": bool(obj.get("refunded", False)),
        "disputed": bool(obj.get("disputed", False)),
        "failure_code": obj.get("failure_code"),
        "failure_message": obj.get("failure_message"),
        "outcome_type": outcome.get("type"),
        "outcome_reason": outcome.get("reason"),
        "balance_transaction_id": ref_id(obj.get("balance_transaction")),
        "billing_country": country or None,
    }


def _refund(obj: dict) -> Row:
    return {
        "charge_id": ref_id(obj.get("charge")),
        "payment_intent_id": ref_id(obj.get("payment_intent")),
        "amount": obj.get("amount") or 0,
        "currency": (obj.get("currency") or "").lower(),
        "status": obj.get("status"),
        "reason": obj.get("reason"),
        "balance_transaction_id": ref_id(obj.get("balance_transaction")),
    }


def _dispute(obj: dict) -> Row:
    return {
        "charge_id": ref_id(obj.get("charge")),
        "payment_intent_id": ref_id(obj.get("payment_intent")),
        "amount": obj.get("amount") or 0,
        "currency": (obj.get("currency") or "").lower(),
        "status": obj.get("status"),
        "reason": obj.get("reason"),
    }


def _balance_transaction(obj: dict) -> Row:
    # payout_id is left out on purpose: it is not a field of the object, and an upsert must
    # not clear a link made by link_payout.
    return {
        "type": obj.get("type") or "unknown",
        "reporting_category": obj.get("reporting_category") or obj.get("type") or "unknown",
        "amount": obj.get("amount") or 0,
        "fee": obj.get("fee") or 0,
        "net": obj.get("net") if obj.get("net") is not None else (obj.get("amount") or 0) - (obj.get("fee") or 0),
        "currency": (obj.get("currency") or "").lower(),
        "exchange_rate": exact_decimal(obj.get("exchange_rate")),
        "source_id": ref_id(obj.get("source")),
        "status": obj.get("status"),
        "available_on": ts(obj.get("available_on")),
    }


def _payout(obj: dict) -> Row:
    return {
        "amount": obj.get("amount") or 0,
        "currency": (obj.get("currency") or "").lower(),
        "status": obj.get("status"),
        "arrival_date": ts(obj.get("arrival_date")),
        "automatic": bool(obj.get("automatic", True)),
        "balance_transaction_id": ref_id(obj.get("balance_transaction")),
    }


def _nested_subscription(obj: dict) -> Iterator[dict]:
    for item in _data(obj.get("items")):
        if isinstance(item, dict) and item.get("id"):
            if not item.get("subscription"):
                item = {**item, "subscription": obj["id"]}
            yield {**item, "object": "subscription_item"}


def _nested_item(obj: dict) -> Iterator[dict]:
    price = _expanded(obj.get("price"), "price")
    if price:
        yield price


def _nested_invoice(obj: dict) -> Iterator[dict]:
    for payment in _data(obj.get("payments")):
        if _expanded(payment, "invoice_payment"):
            yield payment


def _nested_charge(obj: dict) -> Iterator[dict]:
    bt = _expanded(obj.get("balance_transaction"), "balance_transaction")
    if bt:
        yield bt
    for refund in _data(obj.get("refunds")):
        if _expanded(refund, "refund"):
            yield refund


def _nested_bt(obj: dict, field: str) -> Iterator[dict]:
    bt = _expanded(obj.get(field), "balance_transaction")
    if bt:
        yield bt


def _nested_dispute(obj: dict) -> Iterator[dict]:
    for bt in obj.get("balance_transactions") or []:
        if _expanded(bt, "balance_transaction"):
            yield bt


def _no_nested(_obj: dict) -> Iterator[dict]:
    return iter(())


MAPPERS: dict[str, tuple[sa.Table, Callable[[dict], Row], Callable[[dict], Iterable[dict]]]] = {
    "customer": (stripe_customers, _customer, _no_nested),
    "product": (stripe_products, _product, _no_nested),
    "price": (stripe_prices, _price, _no_nested),
    "subscription": (stripe_subscriptions, _subscription, _nested_subscription),
    "subscription_item": (stripe_subscription_items, _subscription_item, _nested_item),
    "invoice": (stripe_invoices, _invoice, _nested_invoice),
    "invoice_payment": (stripe_invoice_payments, _invoice_payment, _no_nested),
    "charge": (stripe_charges, _charge, _nested_charge),
    "refund": (stripe_refunds, _refund, lambda o: _nested_bt(o, "balance_transaction")),
    "dispute": (stripe_disputes, _dispute, _nested_dispute),
    "balance_transaction": (stripe_balance_transactions, _balance_transaction, _no_nested),
    "payout": (stripe_payouts, _payout, lambda o: _nested_bt(o, "balance_transaction")),
}

# A deleted object (``{"id", "object", "deleted": true}``) only flips a flag on the stored row.
_DELETED_FLAG = {"customer": ("deleted", True), "product": ("active", False), "price": ("active", False)}


# --- applying objects ----------------------------------------------------------------------


class _Mode:
    """The store's Stripe mode, read once per call and fixed by the first object that has one."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        stored = get_meta(conn, "livemode")
        self.livemode: bool | None = None if stored is None else stored == "true"

    def check(self, obj: dict, inherited: bool | None) -> bool:
        value = obj.get("livemode", inherited)
        if value is None:
            return bool(self.livemode)
        value = bool(value)
        if self.livemode is None:
            set_meta(self.conn, "livemode", "true" if value else "false")
            self.livemode = value
        elif value != self.livemode:
            store_mode = "live" if self.livemode else "test"
            raise ValueError(
                f"Stripe {obj.get('object', 'object')} {obj.get('id')} is {'live' if value else 'test'}-mode "
                f"data but this store holds {store_mode}-mode data; use a separate store for each mode"
            )
        return value


def apply_objects(
    conn: Connection, objects: Iterable[dict], *, synced_at: datetime | None = None
) -> dict[str, int]:
    """Upsert Stripe objects (and the expanded objects they carry) into the stripe_* tables.

    Returns how many objects of each type were applied. Unknown types are skipped. Rows are
    written in batches per table; the caller owns the transaction. ``synced_at`` defaults to now.
    """
    synced_at = synced_at or datetime.now(UTC)
    mode = _Mode(conn)
    pending: dict[str, dict[str, Row]] = {}
    deletions: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    buffered = 0

    def visit(obj: dict, inherited: bool | None) -> None:
        nonlocal buffered
        kind = obj.get("object")
        entry = MAPPERS.get(kind) if isinstance(kind, str) else None
        if entry is None or not obj.get("id"):
            log.debug("skipping Stripe object of type %r", kind)
            return
        livemode = mode.check(obj, inherited)
        counts[kind] = counts.get(kind, 0) + 1
        if obj.get("deleted") and kind in _DELETED_FLAG:
            deletions.append((kind, obj["id"]))
            return
        _table, mapper, nested = entry
        row = _base(obj, livemode, synced_at)
        row.update(mapper(obj))
        # Dicts keep first-insertion order, so the last version of an object wins within a batch.
        pending.setdefault(kind, {})[row["id"]] = row
        buffered += 1
        for child in nested(obj):
            visit(child, livemode)

    for obj in objects:
        if not isinstance(obj, dict):
            log.debug("skipping a non-object %r", type(obj).__name__)
            continue
        visit(obj, None)
        if buffered >= FLUSH_ROWS:
            _flush(conn, pending)
            buffered = 0
    _flush(conn, pending)
    for kind, object_id in deletions:
        table = MAPPERS[kind][0]
        column, value = _DELETED_FLAG[kind]
        conn.execute(table.update().where(table.c.id == object_id).values({column: value, "synced_at": synced_at}))
    return counts


def _flush(conn: Connection, pending: dict[str, dict[str, Row]]) -> None:
    # Parents first, so that a reader in another transaction never sees a child without its row.
    for kind in MAPPERS:
        rows = pending.pop(kind, None)
        if not rows:
            continue
        table = MAPPERS[kind][0]
        insert_rows(conn, table, list(rows.values()), on_conflict="update")
        if kind == "subscription":
            _drop_removed_items(conn, rows.values())


def _drop_removed_items(conn: Connection, subscriptions: Iterable[Row]) -> None:
    """Delete stored items that a subscription no longer has (its item list is complete)."""
    keep: dict[str, set[str]] = {}
    for row in subscriptions:
        obj = json.loads(row["raw"])
        items = obj.get("items")
        if not isinstance(items, dict) or items.get("has_more"):
            continue
        keep[row["id"]] = {item["id"] for item in _data(items) if isinstance(item, dict) and item.get("id")}
    t = stripe_subscription_items
    sub_ids = list(keep)
    for start in range(0, len(sub_ids), _ID_CHUNK):
        chunk = sub_ids[start : start + _ID_CHUNK]
        stored = conn.execute(sa.select(t.c.id, t.c.subscription_id).where(t.c.subscription_id.in_(chunk))).all()
        stale = [item_id for item_id, sub_id in stored if item_id not in keep[sub_id]]
        for s in range(0, len(stale), _ID_CHUNK):
            conn.execute(t.delete().where(t.c.id.in_(stale[s : s + _ID_CHUNK])))


def link_payout(conn: Connection, payout_id: str, balance_transaction_ids: Sequence[str]) -> int:
    """Mark balance transactions as paid out by ``payout_id`` (what Stripe lists under
    ``GET /v1/balance_transactions?payout=…``, the payout's own transaction included).

    Returns the number of stored transactions linked; ids not stored yet are ignored.
    """
    t = stripe_balance_transactions
    linked = 0
    ids = list(balance_transaction_ids)
    for start in range(0, len(ids), _ID_CHUNK):
        result = conn.execute(
            t.update().where(t.c.id.in_(ids[start : start + _ID_CHUNK])).values(payout_id=payout_id)
        )
        linked += result.rowcount or 0
    return linked


# --- subscription history ------------------------------------------------------------------


def subscription_state(subscription: dict) -> tuple[str, str, str | None]:
    """(status, items JSON, discount JSON or None) of a subscription, in history's canonical form."""
    items = []
    for item in _data(subscription.get("items")):
        if not isinstance(item, dict):
            continue
        price_id = ref_id(item.get("price")) or ref_id(item.get("plan"))
        if price_id:
            quantity = item.get("quantity")
            items.append({"price_id": price_id, "quantity": 1 if quantity is None else int(quantity)})
    items.sort(key=lambda i: (i["price_id"], i["quantity"]))
    discount = discount_state(subscription)
    return (
        subscription.get("status") or "unknown",
        canonical_json(items),
        canonical_json(discount) if discount is not None else None,
    )


def record_subscription_state(conn: Connection, subscription: dict, valid_from: datetime, source: str) -> None:
    """Append the subscription's state at ``valid_from`` to subscription_history.

    Nothing is added when the state equals the latest stored state before ``valid_from``; a row
    at the same (subscription, valid_from) is replaced.
    """
    record_subscription_states(conn, [(subscription, valid_from, source)])


def record_subscription_states(
    conn: Connection, entries: Sequence[tuple[dict, datetime, str]]
) -> int:
    """:func:`record_subscription_state` for many (subscription, valid_from, source) at once.

    Entries may come in any order and several per subscription. Returns the rows written.
    """
    h = subscription_history
    by_sub: dict[str, list[tuple[datetime, str, tuple[str, str, str | None], str]]] = {}
    for subscription, valid_from, source in entries:
        if valid_from.tzinfo is None:
            raise ValueError(f"valid_from {valid_from.isoformat()} has no UTC offset")
        customer_id = ref_id(subscription.get("customer")) or ""
        by_sub.setdefault(subscription["id"], []).append(
            (valid_from.astimezone(UTC), customer_id, subscription_state(subscription), source)
        )

    stored: dict[str, dict[datetime, tuple[str, str, str | None]]] = {}
    sub_ids = list(by_sub)
    for start in range(0, len(sub_ids), _ID_CHUNK):
        chunk = sub_ids[start : start + _ID_CHUNK]
        query = sa.select(h.c.subscription_id, h.c.valid_from, h.c.status, h.c["items"], h.c.discount).where(
            h.c.subscription_id.in_(chunk)
        )
        for sub_id, valid_from, status, items, discount in conn.execute(query):
            stored.setdefault(sub_id, {})[valid_from] = (status, items, discount)

    rows: list[Row] = []
    obsolete: list[tuple[str, datetime]] = []
    for sub_id, changes in by_sub.items():
        history = stored.get(sub_id, {})
        written: dict[datetime, Row] = {}
        for valid_from, customer_id, state, source in sorted(changes, key=lambda c: c[0]):
            earlier = [at for at in history if at < valid_from]
            previous = history[max(earlier)] if earlier else None
            if previous == state:
                if valid_from in history:
                    # The state at this instant now equals the one before: the row says nothing.
                    del history[valid_from]
                    written.pop(valid_from, None)
                    obsolete.append((sub_id, valid_from))
                continue
            history[valid_from] = state
            status, items, discount = state
            written[valid_from] = {
                "subscription_id": sub_id,
                "valid_from": valid_from,
                "customer_id": customer_id,
                "status": status,
                "items": items,
                "discount": discount,
                "source": source,
            }
        rows.extend(written.values())
    for sub_id, valid_from in obsolete:
        conn.execute(h.delete().where(h.c.subscription_id == sub_id, h.c.valid_from == valid_from))
    insert_rows(conn, h, rows, on_conflict="update")
    return len(rows)
