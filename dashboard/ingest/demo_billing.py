"""Stripe-shaped money for the demo: customers, charges with declines, refunds, disputes, balance transactions.

Every object is a dict in the shape of the current Stripe API (as ``to_dict()`` gives it) and is
stored through :mod:`dashboard.ingest.stripe_objects`, like synced data.

Pricing rule of the demo account (a US Stripe account settling in usd):

- card charge fee = 2.9% of the settled amount + 30¢, plus 1.5% when the card was issued outside
  the US, plus 1% when the charge is not in usd; percentages are rounded half-even to the cent;
- a charge in eur or gbp is settled to usd at that UTC day's fx rate (the ``fx`` row of the day,
  shown as ``exchange_rate`` on the balance transaction); refunds and disputes are converted at
  the rate of their own day;
- refunds return no fee; a dispute costs 15.00 usd, returned when the dispute is won;
- funds become available two days after the transaction's UTC day; every day an automatic payout
  pays out what became available that day (carried forward while the balance is not positive).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from dashboard.ingest.demo_catalogue import CATALOGUE_CREATED_DAYS_BEFORE, coupon_object
from dashboard.ingest.demo_world import (
    BASE_DECLINE_RATE,
    COUPONS,
    CREDIT_PACKS,
    DAY,
    DAYS,
    DECLINES,
    FIRST_NAMES,
    LAST_NAMES,
    ORDINARY_DECLINES,
    OUTAGE_DECLINE_RATE,
    OUTAGE_DECLINES,
    Country,
    Draws,
    Ids,
    World,
)
from dashboard.money import round_half_even

DISPUTE_FEE = 1500
REFUND_RATE = 0.025
DISPUTE_RATE = 0.0035
CHECKOUT_SECOND_CARD = 0.6


def pct_of(amount: int, basis_points: int) -> int:
    """``amount`` × basis_points / 10000, rounded half-even, in integers."""
    q, r = divmod(amount * basis_points, 10_000)
    if r * 2 > 10_000 or (r * 2 == 10_000 and q % 2 == 1):
        q += 1
    return q


def card_fee(settled: int, *, international: bool, converted: bool) -> int:
    """The demo's card pricing (see the module docstring), in usd cents."""
    basis_points = 290 + (150 if international else 0) + (100 if converted else 0)
    return pct_of(settled, basis_points) + 30


@dataclass
class Out:
    """What one person adds to the store (kept apart until the person is accepted)."""

    events: list[tuple] = field(default_factory=list)  # (t, event, user_id, anonymous_id, properties, task)
    objects: list[dict] = field(default_factory=list)
    history: list[tuple[dict, datetime, str]] = field(default_factory=list)
    bts: list[tuple[int, str, int]] = field(default_factory=list)  # (available day, txn id, net)
    links: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    who: tuple[str, str, str, bool] = ("", "", "", True)  # channel, country, device, consent
    arrival: tuple[int, str] = (0, "")  # first visit's day index, channel

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


@dataclass
class Customer:
    id: str
    user_id: str
    country: Country
    currency: str
    created: int


class Billing:
    """Creates the Stripe objects of one person's purchases into an :class:`Out`."""

    def __init__(self, world: World, draws: Draws, ids: Ids, prices: dict[str, dict]) -> None:
        self.world = world
        self.draws = draws
        self.ids = ids
        self.prices = prices
        self.coupons = {c.id: coupon_object(c, world.t0 - CATALOGUE_CREATED_DAYS_BEFORE * DAY) for c in COUPONS}

    # --- customers ---------------------------------------------------------------------

    def customer(self, out: Out, user_id: str, country: Country, t: int) -> Customer:
        cus_id = self.ids.next("cus")
        first = FIRST_NAMES[self.draws.between(0, len(FIRST_NAMES) - 1)]
        last = LAST_NAMES[self.draws.between(0, len(LAST_NAMES) - 1)]
        with_metadata = not self.draws.chance(0.05)
        out.objects.append({
            "id": cus_id, "object": "customer", "address": {"city": None, "country": country.code, "line1": None,
                                                             "line2": None, "postal_code": None, "state": None},
            "balance": 0, "created": t, "currency": country.currency, "default_source": None, "delinquent": False,
            "description": None, "email": f"{first.lower()}.{last.lower()}.{user_id[-6:].lower()}@example.com",
            "invoice_prefix": cus_id[4:12].upper(), "livemode": False,
            "metadata": {"user_id": user_id} if with_metadata else {}, "name": f"{first} {last}",
            "preferred_locales": [], "tax_exempt": "none",
        })
        if not with_metadata:
            out.links.append({"user_id": user_id, "customer_id": cus_id})
        out.count("customers")
        return Customer(cus_id, user_id, country, country.currency, t)

    # --- money movements ---------------------------------------------------------------

    def _settle(self, amount: int, currency: str, t: int) -> tuple[int, Decimal | None]:
        if currency == "usd":
            return amount, None
        rate = self.world.rate(currency, t)
        return round_half_even(Decimal(amount) * rate), rate

    def _bt(self, out: Out, kind: str, category: str, amount: int, currency: str, t: int, source: str,
            *, fee: int | None = None, fee_fn: Callable[[int], int] | None = None,
            description: str | None = None) -> dict:
        """A balance transaction in usd for ``amount`` (signed, in ``currency``) at time ``t``."""
        settled, rate = self._settle(abs(amount), currency, t)
        settled = settled if amount >= 0 else -settled
        if fee_fn is not None:
            fee = fee_fn(abs(settled))
        fee = fee or 0
        available_day = self.world.day(t) + 2
        txn = self.ids.next("txn")
        net = settled - fee
        if available_day < DAYS:
            out.bts.append((available_day, txn, net))
        return {
            "id": txn, "object": "balance_transaction", "amount": settled,
            "available_on": self.world.t0 + available_day * DAY, "balance_type": "payments", "created": t,
            "currency": "usd", "description": description,
            "exchange_rate": None if rate is None else float(rate), "fee": fee,
            "fee_details": [] if not fee else [{"amount": fee, "application": None, "currency": "usd",
                                                "description": "Stripe processing fees" if kind != "adjustment"
                                                else "Dispute fee", "type": "stripe_fee"}],
            "net": net, "reporting_category": category, "source": source,
            "status": "available" if available_day < DAYS else "pending", "type": kind,
        }

    def _decline(self, customer: Customer, t: int, prior: str | None) -> str | None:
        """The decline reason of a payment attempt at ``t``, or None when it goes through."""
        if self.world.outage.active(self.world.day(t)) and self.draws.chance(OUTAGE_DECLINE_RATE):
            return self.draws.pick(OUTAGE_DECLINES)
        if prior is not None:
            return None if self.draws.chance(DECLINES[prior][4]) else prior
        if self.draws.chance(BASE_DECLINE_RATE * customer.country.decline):
            return self.draws.pick(ORDINARY_DECLINES)
        return None

    def charge(self, out: Out, customer: Customer, amount: int, t: int, intent: str, description: str,
               prior: str | None = None, fresh_card: bool = False) -> str | None:
        """One payment attempt; returns None on success, else the decline reason."""
        reason = self._decline(customer, t, None if fresh_card else prior)
        ch_id = self.ids.next("ch")
        country = customer.country.code
        charge: dict[str, Any] = {
            "id": ch_id, "object": "charge", "amount": amount, "amount_captured": 0 if reason else amount,
            "amount_refunded": 0, "balance_transaction": None,
            "billing_details": {"address": {"city": None, "country": country, "line1": None, "line2": None,
                                            "postal_code": None, "state": None},
                                "email": None, "name": None, "phone": None},
            "captured": reason is None, "created": t, "currency": customer.currency, "customer": customer.id,
            "description": description, "disputed": False, "failure_balance_transaction": None,
            "failure_code": None, "failure_message": None, "livemode": False, "metadata": {},
            "outcome": None, "paid": reason is None, "payment_intent": intent,
            "payment_method_details": {"card": {"brand": "visa" if self.draws.u() < 0.55 else "mastercard",
                                                "country": country, "funding": "credit", "last4": "4242"},
                                       "type": "card"},
            "refunded": False, "status": "failed" if reason else "succeeded",
        }
        out.count("charges")
        if reason:
            code, message, outcome_type, _, _ = DECLINES[reason]
            blocked = outcome_type == "blocked"
            charge.update(failure_code=code, failure_message=message, outcome={
                "network_status": "not_sent_to_network" if blocked else "declined_by_network",
                "reason": reason, "risk_level": "highest" if blocked else "normal",
                "seller_message": "Stripe blocked this payment as too risky." if blocked
                else "The bank did not return any further details with this decline.",
                "type": outcome_type})
            out.count("failed_charges")
            out.objects.append(charge)
            return reason
        charge["outcome"] = {"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                             "seller_message": "Payment complete.", "type": "authorized"}
        international = country != "US"
        converted = customer.currency != "usd"
        bt = self._bt(out, "charge", "charge", amount, customer.currency, t, ch_id,
                      fee_fn=lambda settled: card_fee(settled, international=international, converted=converted),
                      description=description)
        charge["balance_transaction"] = bt["id"]
        out.objects.append(bt)
        u = self.draws.u()
        if u < REFUND_RATE:
            self._refund(out, customer, charge, t)
        elif u < REFUND_RATE + DISPUTE_RATE * customer.country.decline:
            self._dispute(out, customer, charge, t)
        out.objects.append(charge)
        return None

    def _refund(self, out: Out, customer: Customer, charge: dict, t: int) -> None:
        at = t + 3600 + int(self.draws.exp(5.0) * DAY)
        if at >= self.world.t_end:
            return
        full = self.draws.chance(0.7)
        amount = charge["amount"] if full else max(1, int(charge["amount"] * (0.2 + 0.4 * self.draws.u())))
        re_id = self.ids.next("re")
        bt = self._bt(out, "refund", "refund", -amount, customer.currency, at, re_id, description="REFUND FOR CHARGE")
        out.objects.append(bt)
        reason = "requested_by_customer" if self.draws.u() < 0.8 else ("duplicate" if self.draws.u() < 0.5
                                                                        else "fraudulent")
        out.objects.append({
            "id": re_id, "object": "refund", "amount": amount, "balance_transaction": bt["id"],
            "charge": charge["id"], "created": at, "currency": customer.currency, "metadata": {},
            "payment_intent": charge["payment_intent"], "reason": reason, "receipt_number": None,
            "status": "succeeded", "destination_details": {"card": {"type": "refund"}, "type": "card"},
        })
        charge["amount_refunded"] = amount
        charge["refunded"] = full
        out.count("refunds")

    def _dispute(self, out: Out, customer: Customer, charge: dict, t: int) -> None:
        at = t + int((7 + self.draws.exp(18.0)) * DAY)
        if at >= self.world.t_end:
            return
        dp_id = self.ids.next("dp")
        amount = charge["amount"]
        bts = [self._bt(out, "adjustment", "dispute", -amount, customer.currency, at, dp_id, fee=DISPUTE_FEE,
                        description=f"Chargeback withdrawal for {charge['id']}")]
        closes = at + int((20 + 40 * self.draws.u()) * DAY)
        if closes >= self.world.t_end:
            status = "needs_response" if at + 10 * DAY >= self.world.t_end else "under_review"
        elif self.draws.chance(0.42):
            status = "won"
            bts.append(self._bt(out, "adjustment", "dispute_reversal", amount, customer.currency, closes, dp_id,
                                fee=-DISPUTE_FEE, description=f"Chargeback reversal for {charge['id']}"))
        else:
            status = "lost"
        reason = ("fraudulent", "product_not_received", "subscription_canceled", "unrecognized", "duplicate",
                  "general")[self.draws.between(0, 5)]
        out.objects.append({
            "id": dp_id, "object": "dispute", "amount": amount, "balance_transactions": bts,
            "charge": charge["id"], "created": at, "currency": customer.currency,
            "evidence_details": {"due_by": at + 21 * DAY, "has_evidence": status in ("won", "lost", "under_review"),
                                 "past_due": False, "submission_count": 1 if status != "needs_response" else 0},
            "is_charge_refundable": False, "livemode": False, "metadata": {},
            "payment_intent": charge["payment_intent"], "reason": reason, "status": status,
        })
        charge["disputed"] = True
        out.count("disputes")

    # --- purchases ---------------------------------------------------------------------

    def credit_pack(self, out: Out, customer: Customer, t: int) -> int | None:
        """A one-time credit-pack purchase (no invoice); returns when it was paid, or None."""
        key, name, amounts = CREDIT_PACKS[0 if self.draws.u() < 0.7 else 1]
        intent = self.ids.next("pi")
        reason = self.charge(out, customer, amounts[customer.currency], t, intent, name)
        if reason is None:
            return t
        if self.draws.chance(CHECKOUT_SECOND_CARD):
            t += self.draws.between(60, 600)
            if self.charge(out, customer, amounts[customer.currency], t, intent, name, fresh_card=True) is None:
                return t
        return None
