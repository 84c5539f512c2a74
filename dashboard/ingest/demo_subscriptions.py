"""One demo subscription's life, as Stripe would record it.

Checkout (a declined card may be replaced by a second one; otherwise the subscription is
``incomplete`` and expires after 23 hours), an optional trial (some are cancelled before the
first invoice), monthly or yearly renewals charged an hour after the period starts, smart
retries of a failed renewal (3, 5 and 7 days apart; the subscription is canceled when all fail),
upgrades, downgrades and seat changes at renewal, and cancellation at the end of a period. Each
change of state is appended to the person's subscription history at the instant it happened.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dashboard.ingest.demo_billing import CHECKOUT_SECOND_CARD, Billing, Customer, Out, pct_of
from dashboard.ingest.demo_world import DAY, PLANS, Coupon, Plan, price_amount, price_id
from dashboard.types import UTC

TRIAL_DROP = 0.35  # trials cancelled before their first invoice
RETRY_GAPS_DAYS = (3, 5, 7)  # smart retries after a failed renewal, then the subscription is canceled


@dataclass
class SubOutcome:
    """How a subscription went: when it was first paid, when it was usable (and how busy), how it ended."""

    paid_at: int | None = None
    spans: list[tuple[int, int, float]] = field(default_factory=list)  # (from, to, tasks per day)
    ended_at: int | None = None
    end_reason: str | None = None  # cancellation_requested | payment_failed | incomplete


def add_months(t: int, months: int) -> int:
    """The same day-of-month and time ``months`` later (clipped to the month's last day)."""
    dt = datetime.fromtimestamp(t, UTC)
    month0 = dt.month - 1 + months
    year, month = dt.year + month0 // 12, month0 % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def subscribe(billing: Billing, out: Out, customer: Customer, t: int, plan: Plan, interval: str, seats: int,
              coupon: Coupon | None, trial_days: int) -> SubOutcome:
    """A subscription from checkout at ``t`` to its end (or the end of the data)."""
    return _SubscriptionRun(billing, out, customer, t, plan, interval, seats, coupon, trial_days).run()


class _SubscriptionRun:
    """One subscription's life: trial, renewals with retries, plan changes, cancellation."""

    def __init__(self, billing: Billing, out: Out, customer: Customer, t: int, plan: Plan, interval: str,
                 seats: int, coupon: Coupon | None, trial_days: int) -> None:
        self.b = billing
        self.draws = billing.draws
        self.world = billing.world
        self.out = out
        self.customer = customer
        self.created = t
        self.plan, self.interval, self.seats = plan, interval, seats
        self.coupon = coupon
        self.trial_days = trial_days
        self.id = billing.ids.next("sub")
        self.item_id = billing.ids.next("si")
        self.status = "incomplete"
        self.result = SubOutcome()
        self.cancel_requested: int | None = None
        self.canceled_at: int | None = None
        self.latest_invoice: str | None = None
        self.period = (t, t)
        self.discount_id = billing.ids.next("di") if coupon else None

    def snapshot(self, full: bool = False) -> dict:
        """The subscription as Stripe shows it now: the fields history needs, or (``full``) all of them."""
        price = price_id(self.plan.key, self.interval, self.customer.currency)
        discounts = []
        if self.coupon is not None:
            discounts.append({
                "id": self.discount_id, "object": "discount", "customer": self.customer.id,
                "source": {"coupon": self.b.coupons[self.coupon.id], "type": "coupon"},
                "start": self.created, "end": None, "subscription": self.id,
            })
        sub: dict[str, Any] = {
            "id": self.id, "object": "subscription", "customer": self.customer.id, "status": self.status,
            "items": {"object": "list", "data": [{
                "id": self.item_id, "object": "subscription_item", "created": self.created,
                "price": self.b.prices[price] if full else price, "quantity": self.seats, "subscription": self.id,
                "current_period_start": self.period[0], "current_period_end": self.period[1],
                "discounts": [], "metadata": {}}], "has_more": False, "total_count": 1},
            "discounts": discounts,
        }
        if full:
            trial_end = self.created + self.trial_days * DAY if self.trial_days else None
            ended_at = self.result.ended_at
            sub.update({
                "billing_cycle_anchor": trial_end or self.created, "cancel_at": None,
                "cancel_at_period_end": self.cancel_requested is not None and ended_at is None,
                "canceled_at": self.canceled_at, "collection_method": "charge_automatically",
                "cancellation_details": {"comment": None, "feedback": None,
                                         "reason": self.result.end_reason if ended_at else None},
                "created": self.created, "currency": self.customer.currency, "ended_at": ended_at,
                "latest_invoice": self.latest_invoice, "livemode": False, "metadata": {},
                "start_date": self.created, "trial_start": self.created if trial_end else None,
                "trial_end": trial_end,
            })
        return sub

    def record(self, t: int) -> None:
        self.out.history.append((self.snapshot(), datetime.fromtimestamp(t, UTC), "demo"))

    def next_period_end(self, start: int) -> int:
        return add_months(start, 12 if self.interval == "year" else 1)

    def rate(self) -> float:
        """Tasks a day while subscribed: each seat after the first adds 60% of one seat's use."""
        return self.plan.tasks_per_day * (1.0 + 0.6 * (self.seats - 1))

    def run(self) -> SubOutcome:
        """Bill period after period until the subscription ends or the data does."""
        world, draws, res = self.world, self.draws, self.result
        t = self.created
        self.out.count("subscriptions")
        if self.trial_days:
            self.status = "trialing"
            trial_end = t + self.trial_days * DAY
            self.period = (t, trial_end)
            self.record(t)
            res.spans.append((t, min(trial_end, world.t_end), self.rate()))
            if trial_end < world.t_end and draws.chance(TRIAL_DROP):
                self.canceled_at = self.cancel_requested = t + int(draws.u() * (trial_end - t))
                self.status = "canceled"
                self.record(trial_end)
                res.ended_at, res.end_reason = trial_end, "cancellation_requested"
                self.out.objects.append(self.snapshot(full=True))
                return res
            t = trial_end
        first = True
        while t + 3600 < world.t_end:  # renewals are charged an hour after the period starts
            period_end = self.next_period_end(t)
            self.period = (t, period_end)
            outcome, paid_at = self.invoice(t, period_end, first)
            if outcome == "incomplete":
                if t + 23 * 3600 < world.t_end:
                    self.status = "incomplete_expired"
                    self.record(t + 23 * 3600)
                    res.ended_at, res.end_reason = t + 23 * 3600, "incomplete"
                break
            if outcome == "failed":
                self.status, self.canceled_at = "canceled", paid_at
                self.record(paid_at)
                res.ended_at, res.end_reason = paid_at, "payment_failed"
                break
            if outcome == "open":
                res.spans.append((t, world.t_end, self.rate()))
                break
            if first:
                res.paid_at = paid_at
                if self.coupon is not None and self.coupon.duration == "once":
                    self.coupon = None
            self.status = "active"
            self.record(paid_at)
            first = False
            res.spans.append((t, min(period_end, world.t_end), self.rate()))
            if period_end >= world.t_end:
                self.maybe_request_cancel(t, period_end)
                break
            if self.maybe_request_cancel(t, period_end):
                self.status = "canceled"
                self.record(period_end)
                res.ended_at, res.end_reason = period_end, "cancellation_requested"
                break
            self.maybe_change_plan()
            t = period_end
        self.out.objects.append(self.snapshot(full=True))
        return res

    def maybe_request_cancel(self, start: int, end: int) -> bool:
        """Whether the customer asks, some time in this period, to cancel at its end."""
        hazard = {"starter": 0.05, "pro": 0.033, "team": 0.022}[self.plan.key]
        if self.interval == "year":
            hazard = 0.25
        if not self.draws.chance(hazard):
            return False
        at = start + int(self.draws.u() * (end - start))
        if at >= self.world.t_end:
            return False
        self.cancel_requested = self.canceled_at = at
        return True

    def maybe_change_plan(self) -> None:
        """An upgrade, downgrade or change of seats, effective from the next period."""
        draws = self.draws
        u = draws.u()
        key = self.plan.key
        if u < 0.03 and key != "team":  # upgrade
            self.plan = PLANS[1] if key == "starter" else PLANS[2]
            if self.plan.key == "team":
                self.seats = draws.between(2, 5)
        elif u < 0.042 and key != "starter":  # downgrade
            self.plan = PLANS[0] if key == "pro" else PLANS[1]
            self.seats = 1
        elif u < 0.16 and key == "team":  # seats change
            self.seats = max(2, min(25, self.seats + (draws.between(1, 3) if draws.u() < 0.65 else -draws.between(1, 2))))

    def invoice(self, start: int, end: int, first: bool) -> tuple[str, int]:
        """Bill one period; returns (paid | failed | open | incomplete, time of the last attempt)."""
        b, draws, customer = self.b, self.draws, self.customer
        currency = customer.currency
        price = price_id(self.plan.key, self.interval, currency)
        subtotal = price_amount(self.plan, self.interval, currency) * self.seats
        discount = pct_of(subtotal, self.coupon.percent_off * 100) if self.coupon else 0
        total = subtotal - discount
        in_id, intent = b.ids.next("in"), b.ids.next("pi")
        self.latest_invoice = in_id
        checkout = first and not self.trial_days
        t = start + (0 if checkout else 3600)
        description = "Subscription creation" if first else "Subscription update"
        attempts = [t]
        ran_out = False
        reason = b.charge(self.out, customer, total, t, intent, description)
        if reason is not None and checkout:
            self.status = "incomplete"
            self.record(start)
            if draws.chance(CHECKOUT_SECOND_CARD):
                t += draws.between(60, 600)
                attempts.append(t)
                reason = b.charge(self.out, customer, total, t, intent, description, fresh_card=True)
        elif reason is not None:
            self.status = "past_due"
            self.record(t)
            for gap in RETRY_GAPS_DAYS:
                retry = t + gap * DAY + draws.between(0, 7200)
                if retry >= self.world.t_end:
                    ran_out = True
                    break
                t = retry
                attempts.append(t)
                # a customer who fixed the card (e.g. after an expired_card email) pays with a fresh one
                fresh = draws.chance(0.15)
                reason = b.charge(self.out, customer, total, t, intent, description, prior=reason, fresh_card=fresh)
                if reason is None:
                    break
        if reason is None:
            outcome, status = "paid", "paid"
        elif checkout:
            expires = start + 23 * 3600
            outcome, status = "incomplete", "void" if expires < self.world.t_end else "open"
        elif ran_out:
            outcome, status = "open", "open"
        else:
            outcome, status = "failed", "uncollectible"
        paid = total if outcome == "paid" else 0
        self.out.objects.append({
            "id": in_id, "object": "invoice", "account_country": "US", "amount_due": total, "amount_paid": paid,
            "amount_remaining": total - paid, "attempt_count": len(attempts), "attempted": True,
            "billing_reason": "subscription_create" if first else "subscription_cycle",
            "collection_method": "charge_automatically", "created": start, "currency": currency,
            "customer": customer.id, "discounts": [self.discount_id] if discount else [],
            "lines": {"object": "list", "has_more": False, "total_count": 1, "data": [{
                "id": b.ids.next("il"), "object": "line_item", "amount": subtotal, "currency": currency,
                "description": f"{self.seats} × {self.plan.name} (at {price_amount(self.plan, self.interval, currency)}"
                               f" / {self.interval})",
                "discount_amounts": [{"amount": discount, "discount": self.discount_id}] if discount else [],
                "invoice": in_id, "livemode": False, "metadata": {}, "period": {"start": start, "end": end},
                "pricing": {"price_details": {"price": price, "product": f"prod_{self.plan.key}"},
                            "type": "price_details", "unit_amount_decimal": str(price_amount(
                                self.plan, self.interval, currency))},
                "quantity": self.seats, "subtotal": subtotal,
                "parent": {"type": "subscription_item_details", "subscription_item_details": {
                    "proration": False, "subscription": self.id, "subscription_item": self.item_id}}}]},
            "livemode": False, "metadata": {}, "number": f"{customer.id[4:12].upper()}-{len(attempts):04d}",
            "parent": {"type": "subscription_details",
                       "subscription_details": {"metadata": {}, "subscription": self.id}},
            "period_start": start, "period_end": end, "status": status,
            "status_transitions": {"finalized_at": start, "paid_at": t if outcome == "paid" else None,
                                   "marked_uncollectible_at": t if status == "uncollectible" else None,
                                   "voided_at": start + 23 * 3600 if status == "void" else None},
            "subtotal": subtotal, "total": total,
            "total_discount_amounts": [{"amount": discount, "discount": self.discount_id}] if discount else [],
        })
        self.out.objects.append({
            "id": b.ids.next("inpay"), "object": "invoice_payment", "amount_paid": paid, "amount_requested": total,
            "created": start, "currency": currency, "invoice": in_id, "is_default": True, "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": intent},
            "status": "paid" if outcome == "paid" else ("canceled" if status in ("uncollectible", "void") else "open"),
            "status_transitions": {"canceled_at": t if status in ("uncollectible", "void") else None,
                                   "paid_at": t if outcome == "paid" else None},
        })
        return outcome, t
