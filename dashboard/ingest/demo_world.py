"""The fixed world of the demo dataset: calendar, catalogue, audiences, AI models, fx and anomalies.

Everything random here comes from the demo's seed, so the same seed and end date give the same
world. People and billing (:mod:`dashboard.ingest.demo_people`, :mod:`dashboard.ingest.demo_billing`)
draw from it.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from dashboard.types import UTC

DAYS = 365
DAY = 86_400

# --- random draws -------------------------------------------------------------------------


class Draws:
    """Fast scalar draws from one numpy PCG64 stream, taken a block at a time.

    The order of draws is fixed by the code, so a seed always gives the same sequence.
    """

    BLOCK = 1 << 16

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._uniform: list[float] = []
        self._normal: list[float] = []

    def u(self) -> float:
        """Uniform in [0, 1)."""
        if not self._uniform:
            self._uniform = self._rng.random(self.BLOCK).tolist()
        return self._uniform.pop()

    def n(self) -> float:
        """Standard normal."""
        if not self._normal:
            self._normal = self._rng.standard_normal(self.BLOCK).tolist()
        return self._normal.pop()

    def chance(self, p: float) -> bool:
        return self.u() < p

    def exp(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.u())

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.n())

    def geometric(self, mean: float) -> int:
        """A count >= 0 with the given mean (failures before the first success)."""
        if mean <= 0:
            return 0
        p = 1.0 / (1.0 + mean)
        return int(math.log(1.0 - self.u()) / math.log(1.0 - p))

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + int(self.u() * (high - low + 1))

    def pick(self, table: "Weighted") -> Any:
        return table.values[bisect(table.cum, self.u() * table.total)]


@dataclass(frozen=True)
class Weighted:
    """Values with weights, for :meth:`Draws.pick`."""

    values: tuple[Any, ...]
    cum: tuple[float, ...]
    total: float

    @classmethod
    def of(cls, pairs: list[tuple[Any, float]]) -> "Weighted":
        cum, running = [], 0.0
        for _, weight in pairs:
            running += weight
            cum.append(running)
        return cls(tuple(v for v, _ in pairs), tuple(cum), running)


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Ids:
    """Stripe-looking ids from counters: a tag of the seed, then the counter in decimal.

    Ids of one kind grow in every collation, so bulk inserts append to the primary-key index
    instead of touching it at random (a third faster at millions of rows).
    """

    def __init__(self, seed: int) -> None:
        digest = hashlib.blake2b(f"roi-demo-{seed}".encode(), digest_size=8).digest()
        x = int.from_bytes(digest, "big")
        self._tag = "".join(_B62[(x >> (6 * i)) % 62] for i in range(4))
        self._counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{self._tag}{n:010d}"


# --- audiences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    name: str
    share: float
    signup: float  # multiplier of the base signup probability
    checkout: float  # multiplier of the base checkout probability
    cpc_cents: int  # marketing cost per visitor; 0 for unpaid channels


CHANNELS = (
    Channel("organic", 0.33, 1.00, 1.00, 0),
    Channel("paid_search", 0.21, 0.90, 1.10, 520),
    Channel("social", 0.16, 0.60, 0.70, 240),
    Channel("referral", 0.10, 1.50, 1.30, 0),
    Channel("email", 0.08, 1.30, 1.20, 0),
    Channel("affiliate", 0.07, 0.80, 0.90, 320),
    Channel("direct", 0.05, 1.20, 1.10, 0),
)
CHANNEL_TABLE = Weighted.of([(c, c.share) for c in CHANNELS])
PAID_CHANNELS = tuple(c.name for c in CHANNELS if c.cpc_cents)


@dataclass(frozen=True)
class Country:
    code: str
    share: float
    currency: str
    signup: float
    pay: float  # multiplier of checkout probability
    decline: float  # multiplier of the card decline rate


COUNTRIES = (
    Country("US", 0.34, "usd", 1.00, 1.00, 1.0),
    Country("GB", 0.10, "gbp", 1.00, 1.00, 0.9),
    Country("DE", 0.08, "eur", 0.95, 1.05, 0.8),
    Country("FR", 0.06, "eur", 0.90, 0.90, 1.0),
    Country("NL", 0.03, "eur", 1.05, 1.10, 0.8),
    Country("ES", 0.04, "eur", 0.85, 0.80, 1.2),
    Country("IT", 0.03, "eur", 0.85, 0.80, 1.2),
    Country("CA", 0.06, "usd", 1.00, 1.00, 1.0),
    Country("AU", 0.04, "usd", 1.00, 1.00, 1.0),
    Country("IN", 0.10, "usd", 0.80, 0.35, 2.2),
    Country("BR", 0.05, "usd", 0.80, 0.45, 2.0),
    Country("JP", 0.03, "usd", 0.70, 0.70, 1.0),
    Country("MX", 0.04, "usd", 0.80, 0.50, 1.8),
)
COUNTRY_TABLE = Weighted.of([(c, c.share) for c in COUNTRIES])

DEVICES = Weighted.of([(("desktop", 1.00, 1.00), 0.55), (("mobile", 0.75, 0.55), 0.38), (("tablet", 0.85, 0.80), 0.07)])
"""(device, signup multiplier, checkout multiplier)"""

FIRST_NAMES = "Ada Alan Grace Linus Barbara Ken Margaret Dennis Frances Edsger Radia John Sophie Tim Hedy Claude".split()
LAST_NAMES = "Lovelace Turing Hopper Torvalds Liskov Thompson Hamilton Ritchie Allen Dijkstra Perlman Backus Wilson Berners Lamarr Shannon".split()
PAGES = ("/", "/pricing", "/blog/ai-agents", "/docs", "/templates", "/compare")

# --- catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    monthly: dict[str, int]  # minor units per seat and month, by currency
    tasks_per_day: float  # usage of one seat while subscribed
    seats: tuple[int, int] = (1, 1)


PLANS = (
    Plan("starter", "Starter", {"usd": 1900, "eur": 1900, "gbp": 1600}, 0.45),
    Plan("pro", "Pro", {"usd": 4900, "eur": 4500, "gbp": 3900}, 1.1),
    Plan("team", "Team", {"usd": 2900, "eur": 2700, "gbp": 2300}, 0.5, (2, 25)),
)
PLAN_BY_KEY = {p.key: p for p in PLANS}
PLAN_TABLE = Weighted.of([(PLANS[0], 0.50), (PLANS[1], 0.35), (PLANS[2], 0.15)])
CURRENCIES = ("usd", "eur", "gbp")
YEARLY_MONTHS = 10  # a yearly price is ten monthly ones
CREDIT_PACKS = (("credits_100", "100 task credits", {"usd": 1000, "eur": 1000, "gbp": 900}),
                ("credits_600", "600 task credits", {"usd": 5000, "eur": 4800, "gbp": 4200}))


def price_id(plan: str, interval: str, currency: str) -> str:
    return f"price_{plan}_{interval}_{currency}"


def price_amount(plan: Plan, interval: str, currency: str) -> int:
    return plan.monthly[currency] * (YEARLY_MONTHS if interval == "year" else 1)


@dataclass(frozen=True)
class Coupon:
    id: str
    duration: str
    percent_off: int
    share: float


COUPONS = (Coupon("FOREVER20", "forever", 20, 0.08), Coupon("LAUNCH50", "once", 50, 0.12))

# --- AI models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    name: str
    share: float
    input_micros: int  # price per million input tokens, micro-units of usd
    output_micros: int
    latency_s: float  # median seconds for a typical task
    failure: float  # base probability that a task fails
    errors: tuple[str, ...]


MODELS = (
    Model("gpt-x", 0.36, 2_500_000, 10_000_000, 9.0, 0.030,
          ("rate_limit_exceeded: 429 Too Many Requests", "context_length_exceeded: prompt is too long",
           "upstream_error: 500 internal error")),
    Model("claude-x", 0.30, 3_000_000, 15_000_000, 11.0, 0.020,
          ("overloaded_error: 529 overloaded", "context_length_exceeded: prompt is too long",
           "timeout: no response after 120s")),
    Model("gemini-x", 0.20, 1_250_000, 5_000_000, 6.5, 0.045,
          ("resource_exhausted: 429 quota exceeded", "safety_block: output blocked by safety filter",
           "timeout: no response after 120s")),
    Model("llama-x", 0.14, 200_000, 600_000, 4.0, 0.080,
          ("oom: worker ran out of GPU memory", "timeout: no response after 120s",
           "upstream_error: 502 bad gateway")),
)
MODEL_TABLE = Weighted.of([(m, m.share) for m in MODELS])
PRICE_CUT_MODEL = "gpt-x"  # halves its prices once, mid-year
SPIKE_ERROR = "upstream_error: 503 model overloaded"

TASK_TYPES = Weighted.of([
    (("summarize", 30_000, 1_500), 0.26), (("extract", 25_000, 1_200), 0.18), (("translate", 8_000, 6_000), 0.12),
    (("code", 120_000, 8_000), 0.16), (("research", 300_000, 12_000), 0.10), (("classify", 4_000, 50), 0.10),
    (("batch_extract", 80_000, 3_000), 0.08),
])
"""(task type, median input tokens, median output tokens)"""
BATCH_TYPE = "batch_extract"  # billed by the task service at half price: cost given explicitly

# --- card declines ------------------------------------------------------------------------

# reason -> (failure_code, failure_message, outcome type, share of ordinary declines, retry recovers)
DECLINES: dict[str, tuple[str, str, str, float, float]] = {
    "insufficient_funds": ("card_declined", "Your card has insufficient funds.", "issuer_declined", 0.30, 0.45),
    "generic_decline": ("card_declined", "Your card was declined.", "issuer_declined", 0.20, 0.35),
    "do_not_honor": ("card_declined", "Your card was declined.", "issuer_declined", 0.09, 0.30),
    "expired_card": ("expired_card", "Your card has expired.", "issuer_declined", 0.10, 0.25),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect.", "issuer_declined", 0.04, 0.50),
    "card_velocity_exceeded": ("card_declined", "Your card was declined for making repeated attempts too frequently "
                               "or exceeding its amount limit.", "issuer_declined", 0.03, 0.50),
    "fraudulent": ("card_declined", "Your card was declined.", "issuer_declined", 0.04, 0.0),
    "highest_risk_level": ("card_declined", "Your card was declined.", "blocked", 0.04, 0.0),
    "card_not_supported": ("card_declined", "Your card does not support this type of purchase.",
                           "issuer_declined", 0.03, 0.10),
    "lost_card": ("card_declined", "Your card was declined.", "issuer_declined", 0.02, 0.10),
    "stolen_card": ("card_declined", "Your card was declined.", "issuer_declined", 0.01, 0.0),
    "processing_error": ("processing_error", "An error occurred while processing your card. Try again in a little bit.",
                         "issuer_declined", 0.05, 0.80),
    "try_again_later": ("card_declined", "Your card was declined.", "issuer_declined", 0.03, 0.80),
    "issuer_not_available": ("card_declined", "Your card was declined.", "issuer_declined", 0.02, 0.80),
}
ORDINARY_DECLINES = Weighted.of([(reason, spec[3]) for reason, spec in DECLINES.items()])
OUTAGE_DECLINES = Weighted.of([("processing_error", 0.4), ("issuer_not_available", 0.35), ("try_again_later", 0.25)])
BASE_DECLINE_RATE = 0.055
OUTAGE_DECLINE_RATE = 0.72

# --- calendar, fx and anomalies ------------------------------------------------------------


@dataclass(frozen=True)
class Anomaly:
    """A planted anomaly: ``start``..``end`` are day indexes (inclusive) into the data range."""

    kind: str
    series: str
    start: int
    end: int
    size: float
    description: str

    def active(self, day: int) -> bool:
        return self.start <= day <= self.end

    def as_json(self, first_day: date) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "series": self.series,
            "start": (first_day + timedelta(days=self.start)).isoformat(),
            "end": (first_day + timedelta(days=self.end)).isoformat(),
            "size": self.size,
            "description": self.description,
        }


@dataclass
class World:
    """The calendar and everything fixed before people are drawn."""

    seed: int
    end: date
    first_day: date = field(init=False)
    t0: int = field(init=False)  # epoch seconds of the first day's 00:00 UTC
    t_end: int = field(init=False)  # exclusive end of the data (the day after ``end``)
    fx: dict[str, list[Decimal]] = field(default_factory=dict)
    arrivals: Weighted = field(init=False)
    model_spike: Anomaly = field(init=False)
    outage: Anomaly = field(init=False)
    collapse: Anomaly = field(init=False)
    price_cut_day: int = field(init=False)

    def __post_init__(self) -> None:
        self.first_day = self.end - timedelta(days=DAYS - 1)
        self.t0 = int(datetime.combine(self.first_day, time(), UTC).timestamp())
        self.t_end = self.t0 + DAYS * DAY

    @property
    def anomalies(self) -> tuple[Anomaly, ...]:
        return (self.model_spike, self.outage, self.collapse)

    def day(self, t: int) -> int:
        return (t - self.t0) // DAY

    def day_date(self, day: int) -> date:
        return self.first_day + timedelta(days=day)

    def rate(self, currency: str, t: int) -> Decimal:
        """usd per unit of ``currency`` on the UTC day of ``t`` (the day's fx row)."""
        return self.fx[currency][self.day(t)]


def build_world(seed: int, end: date, draws: Draws) -> World:
    """Calendar, fx rates, arrival weights, the model price cut and the planted anomalies."""
    world = World(seed=seed, end=end)
    for currency, start in (("eur", 1.085), ("gbp", 1.268)):
        level, rates = start, []
        for _ in range(DAYS):
            level *= math.exp(0.0035 * draws.n())
            rates.append(Decimal(f"{level:.6f}"))
        world.fx[currency] = rates
    weights = []
    for d in range(DAYS):
        weekday = world.day_date(d).weekday()
        growth = math.exp(1.1 * d / DAYS)
        season = 1.0 + 0.08 * math.sin(2 * math.pi * d / 91.0)
        weights.append((d, growth * season * (0.78 if weekday >= 5 else 1.0)))
    world.arrivals = Weighted.of(weights)
    world.price_cut_day = draws.between(150, 210)

    model = MODELS[draws.between(0, len(MODELS) - 1)].name
    start = draws.between(45, 330)
    world.model_spike = Anomaly("model_failure_spike", f"ai_model={model}", start, start + 6, 6.0,
                                f"{model} fails about 6x as often for a week")
    start = draws.between(60, 340)
    length = draws.between(3, 5)
    world.outage = Anomaly("payment_outage", "charges", start, start + length - 1, OUTAGE_DECLINE_RATE,
                           f"{int(OUTAGE_DECLINE_RATE * 100)}% of card payments declined for {length} days "
                           "(issuer outage): revenue dips, retries recover part of it")
    channel = ("paid_search", "social", "email", "affiliate")[draws.between(0, 3)]
    start = draws.between(40, 320)
    length = draws.between(14, 21)
    world.collapse = Anomaly("channel_conversion_collapse", f"channel={channel}", start, start + length - 1, 0.15,
                             f"signup conversion of {channel} visitors falls to 15% of normal for {length} days")
    return world


def diurnal_seconds(draws: Draws) -> int:
    """A second of the day, busier in the (UTC) afternoon."""
    hour = (14.0 + 4.5 * draws.n()) % 24.0
    return int(hour * 3600)
