"""``roi demo``: a realistic, reproducible demo dataset of any size, written like real data.

The demo is an AI task-execution SaaS selling through Stripe over the 365 days up to ``end``:
people and their product events (:mod:`dashboard.ingest.demo_people`), Stripe customers,
subscriptions, invoices, charges with declines, refunds, disputes, balance transactions and
payouts (:mod:`dashboard.ingest.demo_billing`, :mod:`dashboard.ingest.demo_subscriptions`), AI tasks on four models, model prices, fx rates
and costs, plus three planted anomalies (:mod:`dashboard.ingest.demo_world`). Stripe objects go
through :mod:`dashboard.ingest.stripe_objects` and everything else through
:func:`dashboard.ingest.imports.write_batch`, the same paths as synced and imported data.

The same ``seed`` and ``end`` give exactly the same store contents (only ``store_meta``'s data
version and update time differ). ``events`` is the exact number of product events. People are
drawn and written in batches, each batch in its own transaction, so memory stays bounded at any
size. The demo needs an empty store: it refuses one that holds any data, a previous demo included.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from dashboard.ingest.demo_billing import Billing, Out
from dashboard.ingest.demo_catalogue import catalogue
from dashboard.ingest.demo_people import People
from dashboard.ingest.demo_world import CHANNELS, DAY, DAYS, MODELS, PRICE_CUT_MODEL, Draws, Ids, World, build_world
from dashboard.ingest.imports import write_batch
from dashboard.ingest.stripe_objects import apply_objects, link_payout, record_subscription_states
from dashboard.schema import TABLES_BY_NAME
from dashboard.store import bump_data_version, set_meta
from dashboard.types import UTC

log = logging.getLogger(__name__)

FLUSH_ROWS = 60_000
# Bookkeeping tables that may hold rows in a store that has no data yet.
NOT_DATA = frozenset({"store_meta", "audit_runs", "import_runs", "sync_cursors", "roi_adopted_objects"})
DEFAULT_SIZE = 200_000  # the size at which fixed costs have their nominal amounts


class DemoRefused(Exception):
    """The demo cannot be written into this store; the message says why, for a person."""


@dataclass(frozen=True)
class DemoSummary:
    """What a demo run wrote."""

    seed: int
    first_day: date
    last_day: date
    events: int
    visitors: int
    users: int
    customers: int
    subscriptions: int
    charges: int
    failed_charges: int
    refunds: int
    disputes: int
    payouts: int
    tasks: int
    planted: tuple[dict[str, Any], ...]
    seconds: float

    def describe(self) -> str:
        """A short multi-line summary for the terminal."""
        lines = [
            f"Demo data (seed {self.seed}) for {self.first_day} .. {self.last_day}, written in {self.seconds:.1f}s:",
            f"  {self.events:,} product events from {self.visitors:,} visitors, {self.users:,} signed-up users",
            f"  {self.customers:,} Stripe customers, {self.subscriptions:,} subscriptions",
            f"  {self.charges:,} charges ({self.failed_charges:,} failed), {self.refunds:,} refunds, "
            f"{self.disputes:,} disputes, {self.payouts:,} payouts",
            f"  {self.tasks:,} AI tasks on {len(MODELS)} models",
            "  planted anomalies:",
        ]
        lines += [f"    {a['kind']} ({a['series']}) {a['start']} .. {a['end']}: {a['description']}" for a in self.planted]
        return "\n".join(lines)


def _refuse_unless_empty(conn: Connection) -> None:
    for name, table in TABLES_BY_NAME.items():
        if name in NOT_DATA:
            continue
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
            raise DemoRefused(
                f"the store already holds data (table {name} is not empty); `roi demo` needs an empty store: "
                "point ROI_DATABASE_URL at a new database or delete the SQLite file first"
            )


@dataclass
class _Batch:
    """Rows of accepted people, waiting to be written."""

    events: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    objects: list[dict] = field(default_factory=list)
    history: list[tuple] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)

    def size(self) -> int:
        return len(self.events) + len(self.tasks) + len(self.objects) + len(self.history)


class _Generator:
    """Accepts people into batches, writes them, and keeps the day-by-day tallies."""

    def __init__(self, engine: Engine, world: World, draws: Draws, ids: Ids, synced_at: datetime) -> None:
        self.engine = engine
        self.world = world
        self.draws = draws
        self.ids = ids
        self.synced_at = synced_at
        self.batch = _Batch()
        self.totals: dict[str, int] = {}
        self.events_by_day = [0] * DAYS
        self.tasks_by_day = [0] * DAYS
        self.arrivals = {c.name: [0] * DAYS for c in CHANNELS}
        self.pool_ids: list[list[str]] = [[] for _ in range(DAYS)]
        self.pool_net = [0] * DAYS

    def accept(self, out: Out) -> None:
        channel, country, device, consent = out.who
        batch, ids = self.batch, self.ids
        for t, name, user_id, anonymous_id, properties, task in out.events:
            started = datetime.fromtimestamp(t, UTC)
            day = (t - self.world.t0) // DAY
            self.events_by_day[day] += 1
            if task is not None:
                model, task_type, status, finished, tokens_in, tokens_out, cost, customer_id, error = task
                task_id = ids.next("task")
                properties = f'{{"ai_model":"{model}","task_id":"{task_id}","task_type":"{task_type}"}}'
                batch.tasks.append({
                    "task_id": task_id, "user_id": user_id, "task_type": task_type, "status": status,
                    "started_at": started, "ai_model": model, "finished_at": datetime.fromtimestamp(finished, UTC),
                    "input_tokens": tokens_in, "output_tokens": tokens_out, "cost": cost,
                    "customer_id": customer_id, "error": error,
                })
                self.tasks_by_day[day] += 1
            batch.events.append({
                "event_id": ids.next("ev"), "event": name, "ts": started, "user_id": user_id,
                "anonymous_id": anonymous_id, "channel": channel, "country": country, "device": device,
                "consent": consent, "properties": properties,
            })
        batch.objects.extend(out.objects)
        batch.history.extend(out.history)
        batch.links.extend(out.links)
        for day, txn, net in out.bts:
            self.pool_ids[day].append(txn)
            self.pool_net[day] += net
        day, channel_name = out.arrival
        self.arrivals[channel_name][day] += 1
        for key, n in out.counts.items():
            self.totals[key] = self.totals.get(key, 0) + n
        self.totals["events"] = self.totals.get("events", 0) + len(out.events)
        self.totals["visitors"] = self.totals.get("visitors", 0) + 1
        if batch.size() >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        batch = self.batch
        if not batch.size() and not batch.links:
            return
        with self.engine.begin() as conn:
            apply_objects(conn, batch.objects, synced_at=self.synced_at)
            record_subscription_states(conn, batch.history)
            write_batch(conn, "customers", batch.links)
            write_batch(conn, "events", batch.events)
            write_batch(conn, "tasks", batch.tasks)
            bump_data_version(conn)
        self.totals["tasks"] = self.totals.get("tasks", 0) + len(batch.tasks)
        self.batch = _Batch()

    def payouts(self) -> int:
        """Daily automatic payouts of what became available; each linked to its transactions."""
        world, ids = self.world, self.ids
        objects: list[dict] = []
        links: list[tuple[str, list[str]]] = []
        carried: list[str] = []
        carried_net = 0
        for day in range(DAYS):
            carried.extend(self.pool_ids[day])
            carried_net += self.pool_net[day]
            if not carried or carried_net <= 0:
                continue
            created = world.t0 + day * DAY + 5 * 3600
            arrival = world.t0 + (day + 2) * DAY
            po_id, txn = ids.next("po"), ids.next("txn")
            objects.append({
                "id": txn, "object": "balance_transaction", "amount": -carried_net,
                "available_on": world.t0 + day * DAY, "balance_type": "payments", "created": created,
                "currency": "usd", "description": "STRIPE PAYOUT", "exchange_rate": None, "fee": 0,
                "fee_details": [], "net": -carried_net, "reporting_category": "payout", "source": po_id,
                "status": "available", "type": "payout",
            })
            objects.append({
                "id": po_id, "object": "payout", "amount": carried_net, "arrival_date": arrival, "automatic": True,
                "balance_transaction": txn, "created": created, "currency": "usd", "description": "STRIPE PAYOUT",
                "destination": "ba_demo_checking", "failure_code": None, "livemode": False, "metadata": {},
                "method": "standard", "reconciliation_status": "completed", "source_type": "card",
                "statement_descriptor": None, "status": "paid" if arrival < world.t_end else "in_transit",
                "type": "bank_account",
            })
            links.append((po_id, carried + [txn]))
            carried, carried_net = [], 0
        with self.engine.begin() as conn:
            apply_objects(conn, objects, synced_at=self.synced_at)
            for po_id, txns in links:
                link_payout(conn, po_id, txns)
            bump_data_version(conn)
        return len(links)

    def costs(self) -> list[dict]:
        """Marketing per paid channel and day, infrastructure per day, 'other' on each month's first."""
        world, draws = self.world, self.draws
        scale = max(self.totals.get("events", 0), 1) / DEFAULT_SIZE
        rows = []
        for day in range(DAYS):
            when = world.day_date(day)
            for channel in CHANNELS:
                visitors = self.arrivals[channel.name][day]
                if channel.cpc_cents and visitors:
                    cents = round(visitors * channel.cpc_cents * draws.lognormal(1.0, 0.12))
                    rows.append({"date": when, "category": "marketing", "channel": channel.name,
                                 "amount_micros": cents * 10_000, "currency": "usd"})
            cents = round(2_500 * scale + 0.2 * self.tasks_by_day[day] + 0.04 * self.events_by_day[day])
            rows.append({"date": when, "category": "infrastructure", "channel": "",
                         "amount_micros": cents * 10_000, "currency": "usd"})
            if when.day == 1:
                rows.append({"date": when, "category": "other", "channel": "",
                             "amount_micros": round(120_000 * scale) * 10_000, "currency": "usd"})
        return rows


def _world_rows(world: World) -> tuple[list[dict], list[dict]]:
    fx = [{"date": world.day_date(d), "currency": currency, "rate": rates[d]}
          for currency, rates in world.fx.items() for d in range(DAYS)]
    since = datetime.fromtimestamp(world.t0, UTC) - timedelta(days=60)
    prices = [{"ai_model": m.name, "effective_from": since, "input_per_million_micros": m.input_micros,
               "output_per_million_micros": m.output_micros} for m in MODELS]
    cut = next(m for m in MODELS if m.name == PRICE_CUT_MODEL)
    prices.append({"ai_model": cut.name,
                   "effective_from": datetime.fromtimestamp(world.t0 + world.price_cut_day * DAY, UTC),
                   "input_per_million_micros": cut.input_micros // 2,
                   "output_per_million_micros": cut.output_micros // 2})
    return fx, prices


def _chunks(rows: list[dict], size: int = 20_000) -> Iterable[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def generate(
    engine: Engine,
    *,
    events: int = 200_000,
    seed: int = 7,
    progress: bool = True,
    end: date | None = None,
) -> DemoSummary:
    """Fill an empty, migrated store with ``events`` product events and everything around them.

    ``end`` is the last day of data (default: yesterday, UTC, so that no row lies in the future);
    the data covers the 365 days up to it.
    Raises :class:`DemoRefused` when the store already holds data.
    """
    started = time.monotonic()
    end = end or datetime.now(UTC).date() - timedelta(days=1)
    with engine.connect() as conn:
        _refuse_unless_empty(conn)
    world_seq, people_seq = np.random.SeedSequence(seed).spawn(2)
    world = build_world(seed, end, Draws(np.random.Generator(np.random.PCG64(world_seq))))
    draws = Draws(np.random.Generator(np.random.PCG64(people_seq)))
    ids = Ids(seed)
    synced_at = datetime.fromtimestamp(world.t_end, UTC)
    catalogue_objects, prices = catalogue(world)
    planted = tuple(a.as_json(world.first_day) for a in world.anomalies)

    fx_rows, price_rows = _world_rows(world)
    with engine.begin() as conn:
        set_meta(conn, "demo", "1")
        set_meta(conn, "demo_planted", json.dumps(list(planted), sort_keys=True))
        apply_objects(conn, catalogue_objects, synced_at=synced_at)
        write_batch(conn, "fx", fx_rows)
        write_batch(conn, "model-prices", price_rows)
        bump_data_version(conn)

    gen = _Generator(engine, world, draws, ids, synced_at)
    people = People(world, draws, ids, Billing(world, draws, ids, prices))
    remaining = events
    with tqdm(total=events, unit="event", unit_scale=True, desc="roi demo", file=sys.stderr,
              disable=not progress, mininterval=0.5) as bar:
        # Whole people while they fit; visitors who bounce after one page make up the exact count.
        while remaining > 0:
            out = people.person()
            if len(out.events) > remaining:
                break
            gen.accept(out)
            remaining -= len(out.events)
            bar.update(len(out.events))
        while remaining > 0:
            gen.accept(people.bounce())
            remaining -= 1
            bar.update(1)
        gen.flush()
    payouts = gen.payouts()
    with engine.begin() as conn:
        for chunk in _chunks(gen.costs()):
            write_batch(conn, "costs", chunk)
        bump_data_version(conn)

    totals = gen.totals
    summary = DemoSummary(
        seed=seed, first_day=world.first_day, last_day=world.end, events=totals.get("events", 0),
        visitors=totals.get("visitors", 0), users=totals.get("users", 0), customers=totals.get("customers", 0),
        subscriptions=totals.get("subscriptions", 0), charges=totals.get("charges", 0),
        failed_charges=totals.get("failed_charges", 0), refunds=totals.get("refunds", 0),
        disputes=totals.get("disputes", 0), payouts=payouts, tasks=totals.get("tasks", 0), planted=planted,
        seconds=time.monotonic() - started,
    )
    log.info("demo written: %s events, %s tasks in %.1fs", summary.events, summary.tasks, summary.seconds)
    return summary
