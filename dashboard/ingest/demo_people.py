"""People of the demo: visits, signups, AI tasks, checkouts and the purchases behind them.

A person arrives through a channel, from a country, on a device, and walks visit -> signup ->
task_run -> checkout_started -> paid with drop-off that depends on all three. Paying people use
the product while their subscription lasts (more on bigger plans), some buy credit packs, and
some come back after cancelling. Every task_run event has its execution task.
"""

from __future__ import annotations

import math
from decimal import Decimal

from dashboard.ingest.demo_billing import Billing, Customer, Out
from dashboard.ingest.demo_subscriptions import subscribe
from dashboard.ingest.demo_world import (
    BATCH_TYPE,
    CHANNEL_TABLE,
    COUNTRY_TABLE,
    COUPONS,
    DAY,
    DEVICES,
    MODEL_TABLE,
    PAGES,
    PLAN_TABLE,
    PRICE_CUT_MODEL,
    SPIKE_ERROR,
    TASK_TYPES,
    Country,
    Draws,
    Ids,
    Model,
    World,
    diurnal_seconds,
)

VISIT_PROPERTIES = tuple(f'{{"path":"{page}"}}' for page in PAGES)
SIGNUP_PROPERTIES = ('{"method":"email"}', '{"method":"google"}', '{"method":"github"}')
CANCELLED = "cancelled by user"
ABANDON, ABANDON_MOBILE = 0.28, 0.42  # checkouts left before paying
LAST_CHECKOUT = 2 * 3600  # a checkout needs this long before the end of the data to be paid


class People:
    """Draws one person at a time into an :class:`Out`."""

    def __init__(self, world: World, draws: Draws, ids: Ids, billing: Billing) -> None:
        self.world = world
        self.draws = draws
        self.ids = ids
        self.billing = billing
        self.spike_model = world.model_spike.series.split("=", 1)[1]
        self.collapse_channel = world.collapse.series.split("=", 1)[1]

    def _arrive(self, out: Out) -> tuple:
        draws = self.draws
        channel = draws.pick(CHANNEL_TABLE)
        country = draws.pick(COUNTRY_TABLE)
        device = draws.pick(DEVICES)
        day = draws.pick(self.world.arrivals)
        out.who = (channel.name, country.code, device[0], not draws.chance(0.02))
        out.arrival = (day, channel.name)
        return channel, country, device, day, self.world.t0 + day * DAY + diurnal_seconds(draws)

    def _visit(self, out: Out, t: int, anonymous_id: str) -> None:
        page = VISIT_PROPERTIES[self.draws.between(0, len(VISIT_PROPERTIES) - 1)]
        out.events.append((t, "visit", None, anonymous_id, page, None))

    def bounce(self) -> Out:
        """A visitor who leaves after one page."""
        out = Out()
        *_, t = self._arrive(out)
        self._visit(out, t, self.ids.next("anon"))
        return out

    def person(self) -> Out:
        """A visitor and, for those who go on, their whole year."""
        world, draws, end = self.world, self.draws, self.world.t_end
        out = Out()
        channel, country, device, day, t = self._arrive(out)
        anonymous_id = self.ids.next("anon")
        visits = [t]
        for _ in range(draws.geometric(0.8)):
            later = visits[-1] + 600 + int(draws.exp(2.5 * DAY))
            if later >= end:
                break
            visits.append(later)
        for visit in visits:
            self._visit(out, visit, anonymous_id)

        p_signup = 0.21 * channel.signup * country.signup * device[1]
        if channel.name == self.collapse_channel and world.collapse.active(day):
            p_signup *= world.collapse.size
        signup = visits[-1] + draws.between(40, 900)
        if not draws.chance(p_signup) or signup >= end:
            return out
        user_id = self.ids.next("user")
        out.count("users")
        out.events.append((signup, "signup", user_id, anonymous_id,
                           SIGNUP_PROPERTIES[draws.between(0, len(SIGNUP_PROPERTIES) - 1)], None))

        first_task = signup + 60 + int(draws.exp(1200.0))
        if not draws.chance(0.8 if device[0] != "mobile" else 0.68) or first_task >= end:
            return out
        preferred = draws.pick(MODEL_TABLE)
        self._task(out, user_id, first_task, preferred, None)
        t = first_task
        for _ in range(draws.geometric(2.2)):
            t += 60 + int(draws.exp(1.2 * DAY))
            if t >= end:
                break
            self._task(out, user_id, t, preferred, None)
        if draws.chance(0.15):  # keeps using the free tier now and then
            self._use(out, user_id, preferred, None, [(t, min(end, t + int(draws.exp(60.0) * DAY)), 0.07)])

        p_checkout = 0.24 * channel.checkout * country.pay * device[2]
        if draws.chance(p_checkout):
            at = first_task + 600 + int(draws.exp(3.0 * DAY))
            if at < end:
                self._subscribe(out, user_id, country, at, preferred, None, comebacks=0)
        elif draws.chance(0.05):
            at = first_task + 600 + int(draws.exp(5.0 * DAY))
            if at < end:
                customer = self.billing.customer(out, user_id, country, at)
                self._buy_pack(out, customer, at + 20)
        return out

    def _buy_pack(self, out: Out, customer: Customer, t: int) -> None:
        if t + LAST_CHECKOUT >= self.world.t_end:
            return
        out.events.append((t, "checkout_started", customer.user_id, None, '{"product":"credits"}', None))
        if self.draws.chance(ABANDON):
            return
        paid = self.billing.credit_pack(out, customer, t + 40)
        if paid is not None:
            out.events.append((paid + 2, "paid", customer.user_id, None,
                               f'{{"currency":"{customer.currency}","product":"credits"}}', None))

    def _subscribe(self, out: Out, user_id: str, country: Country, t: int, preferred: Model,
                   customer: Customer | None, comebacks: int) -> None:
        draws = self.draws
        plan = draws.pick(PLAN_TABLE)
        interval = "year" if draws.chance(0.18) else "month"
        seats = 1 if plan.seats == (1, 1) else min(plan.seats[1], plan.seats[0] + draws.geometric(2.5))
        u = draws.u()
        coupon = None
        if not comebacks:
            coupon = COUPONS[0] if u < COUPONS[0].share else (COUPONS[1] if u < COUPONS[0].share + COUPONS[1].share
                                                               else None)
        trial_days = 7 if not comebacks and draws.chance(0.3) else 0
        out.events.append((t, "checkout_started", user_id, None,
                           f'{{"interval":"{interval}","plan":"{plan.key}"}}', None))
        if draws.chance(ABANDON_MOBILE if out.who[2] == "mobile" else ABANDON) or t + LAST_CHECKOUT >= self.world.t_end:
            return
        if customer is None:
            customer = self.billing.customer(out, user_id, country, t + 20)
        result = subscribe(self.billing, out, customer, t + 45, plan, interval, seats, coupon, trial_days)
        if result.paid_at is not None:
            out.events.append((result.paid_at + 2, "paid", user_id, None,
                               f'{{"currency":"{customer.currency}","plan":"{plan.key}"}}', None))
        self._use(out, user_id, preferred, customer, result.spans)
        if result.end_reason in ("cancellation_requested", "payment_failed") and comebacks < 2 and draws.chance(0.2):
            back = result.ended_at + 15 * DAY + int(draws.exp(40.0) * DAY)
            if back < self.world.t_end:
                self._subscribe(out, user_id, country, back, preferred, customer, comebacks + 1)

    def _use(self, out: Out, user_id: str, preferred: Model, customer: Customer | None,
             spans: list[tuple[int, int, float]]) -> None:
        """Tasks at ``rate`` a day over each span; paying users sometimes top up with a credit pack."""
        draws = self.draws
        customer_id = customer.id if customer is not None else None
        for start, stop, rate in spans:
            mean_gap = DAY / rate
            t = start
            while True:
                t += 1 + int(draws.exp(mean_gap))
                if t >= stop:
                    break
                self._task(out, user_id, t, preferred, customer_id)
                if customer is not None and draws.chance(0.002):
                    self._buy_pack(out, customer, t + 300)

    def _task(self, out: Out, user_id: str, t: int, preferred: Model, customer_id: str | None) -> None:
        draws, world = self.draws, self.world
        model = preferred if draws.chance(0.6) else draws.pick(MODEL_TABLE)
        task_type, median_in, median_out = draws.pick(TASK_TYPES)
        tokens_in = max(1, int(draws.lognormal(median_in, 0.7)))
        tokens_out = max(1, int(draws.lognormal(median_out, 0.6)))
        latency = model.latency_s * math.sqrt(tokens_out / 500.0) * draws.lognormal(1.0, 0.35)
        failure = model.failure
        spiking = model.name == self.spike_model and world.model_spike.active(world.day(t))
        if spiking:
            failure = min(0.6, failure * world.model_spike.size)
        u = draws.u()
        error = None
        if u < failure:
            status = "failed"
            error = SPIKE_ERROR if spiking and draws.chance(0.8) else model.errors[draws.between(0, len(model.errors) - 1)]
            tokens_out = 0
            latency = 120.0 if error.startswith("timeout") else latency * 0.3
        elif u < failure + 0.012:
            status = "cancelled"
            error = CANCELLED
            share = draws.u()
            tokens_out = int(tokens_out * share)
            latency *= share
        else:
            status = "succeeded"
        cost = None
        if task_type == BATCH_TYPE:
            price_in, price_out = model.input_micros, model.output_micros
            if model.name == PRICE_CUT_MODEL and world.day(t) >= world.price_cut_day:
                price_in, price_out = price_in // 2, price_out // 2
            cost = Decimal((tokens_in * price_in + tokens_out * price_out) // 2_000_000).scaleb(-6)
        out.events.append((t, "task_run", user_id, None, None,
                           (model.name, task_type, status, t + max(1, int(latency)), tokens_in, tokens_out, cost,
                            customer_id, error)))
