"""`roi kpis --json`: every headline figure against an independent computation, on both backends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboard import schema
from dashboard.cli import main
from dashboard.ingest.writer import insert_rows
from dashboard.store import bump_data_version

UTC = timezone.utc
SYNCED = datetime(2026, 4, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """An instant written in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class BT:
    id: str
    created: datetime
    category: str
    amount: int
    fee: int
    currency: str = "usd"

    @property
    def net(self) -> int:
        return self.amount - self.fee


@dataclass(frozen=True)
class Charge:
    id: str
    created: datetime
    status: str
    customer: str | None


@dataclass(frozen=True)
class Task:
    id: str
    started: datetime
    status: str
    cost_micros: int | None
    cost: Decimal | None


@dataclass(frozen=True)
class Cost:
    day: date
    category: str
    amount_micros: int
    currency: str = "usd"
    channel: str = ""


@dataclass
class Dataset:
    bts: list[BT]
    charges: list[Charge]
    tasks: list[Task]
    costs: list[Cost]
    fx: dict[tuple[date, str], Decimal]


def write(engine, data: Dataset) -> None:
    """Insert the dataset the way ingestion does: one transaction, bulk rows, data version bumped."""
    with engine.begin() as conn:
        insert_rows(conn, schema.stripe_balance_transactions, [
            {"id": b.id, "livemode": False, "created": b.created, "raw": "{}", "synced_at": SYNCED,
             "type": b.category, "reporting_category": b.category, "amount": b.amount, "fee": b.fee,
             "net": b.net, "currency": b.currency, "status": "available"}
            for b in data.bts
        ])
        insert_rows(conn, schema.stripe_charges, [
            {"id": c.id, "livemode": False, "created": c.created, "raw": "{}", "synced_at": SYNCED,
             "customer_id": c.customer, "amount": 1000, "currency": "usd", "status": c.status,
             "paid": c.status == "succeeded", "failure_code": "card_declined" if c.status == "failed" else None}
            for c in data.charges
        ])
        insert_rows(conn, schema.execution_tasks, [
            {"task_id": t.id, "user_id": "u1", "task_type": "chat", "status": t.status, "started_at": t.started,
             "ai_model": "model-a", "cost": t.cost, "cost_micros": t.cost_micros}
            for t in data.tasks
        ])
        insert_rows(conn, schema.costs, [
            {"date": c.day, "category": c.category, "channel": c.channel, "amount_micros": c.amount_micros,
             "currency": c.currency}
            for c in data.costs
        ])
        insert_rows(conn, schema.fx_rates, [
            {"date": d, "currency": cur, "rate": rate} for (d, cur), rate in data.fx.items()
        ])
        bump_data_version(conn)


def sample() -> Dataset:
    """A week in March 2026 (UTC) and the week before, with every reporting category."""
    bts = [
        BT("txn_from_edge", at("2026-03-01 00:00:00"), "charge", 2500, 103),  # exactly --from: in
        BT("txn_ch1", at("2026-03-02 10:00:00"), "charge", 10000, 320),
        BT("txn_ch2", at("2026-03-03 11:30:00"), "charge", 5000, 175),
        BT("txn_re1", at("2026-03-03 12:00:00"), "refund", -2000, 0),
        BT("txn_rf1", at("2026-03-04 12:00:00"), "refund_failure", 500, 0),
        BT("txn_dp1", at("2026-03-05 09:00:00"), "dispute", -5000, 1500),
        BT("txn_dr1", at("2026-03-06 09:00:00"), "dispute_reversal", 3000, -1500),
        BT("txn_fee1", at("2026-03-06 23:59:59"), "fee", -999, 0),
        BT("txn_po1", at("2026-03-07 02:00:00"), "payout", -20000, 0),
        BT("txn_tr1", at("2026-03-07 03:00:00"), "transfer", -700, 0),
        BT("txn_eur1", at("2026-03-04 15:00:00"), "charge", 1000, 59, "eur"),  # 1000 × 1.0825 = 1082.5
        BT("txn_eur_payout", at("2026-03-05 15:00:00"), "payout", -900, 0, "eur"),  # no rate, not income
        BT("txn_to_edge", at("2026-03-08 00:00:00"), "charge", 4444, 150),  # exactly --to: out
        # the previous week: a eur charge without a rate makes gross, fees and net unknown
        BT("txn_prev1", at("2026-02-25 08:00:00"), "charge", 7000, 233),
        BT("txn_prev_re", at("2026-02-26 08:00:00"), "refund", -1000, 0),
        BT("txn_prev_eur", at("2026-02-26 09:00:00"), "charge", 800, 40, "eur"),
    ]
    charges = [
        Charge("ch_prev_a", at("2026-02-24 10:00:00"), "succeeded", "cus_A"),
        Charge("ch_prev_fail", at("2026-02-24 11:00:00"), "failed", "cus_C"),
        Charge("ch_1", at("2026-03-01 00:00:00"), "succeeded", "cus_A"),
        Charge("ch_2", at("2026-03-02 10:00:00"), "succeeded", "cus_B"),
        Charge("ch_3", at("2026-03-03 10:00:00"), "succeeded", "cus_A"),
        Charge("ch_4", at("2026-03-04 10:00:00"), "failed", "cus_C"),
        Charge("ch_5", at("2026-03-05 10:00:00"), "failed", None),
        Charge("ch_6", at("2026-03-05 11:00:00"), "pending", "cus_D"),
        Charge("ch_edge", at("2026-03-08 00:00:00"), "succeeded", "cus_E"),
    ]
    tasks = [
        Task("t1", at("2026-03-01 08:00:00"), "succeeded", 1_234_567, Decimal("1.234567")),
        Task("t2", at("2026-03-02 08:00:00"), "failed", None, Decimal("0.5")),
        Task("t3", at("2026-03-03 08:00:00"), "cancelled", 10, None),
        Task("t4", at("2026-03-07 23:59:59"), "succeeded", None, None),
        Task("t_edge", at("2026-03-08 00:00:00"), "succeeded", 9_000_000, None),
        Task("t_prev", at("2026-02-28 08:00:00"), "failed", 2_000_000, Decimal("2")),
    ]
    costs = [
        Cost(date(2026, 3, 1), "other", 1_000_000, channel="x"),
        Cost(date(2026, 3, 2), "ai", 10_000_000),
        Cost(date(2026, 3, 3), "marketing", 50_000_000, channel="ads"),
        Cost(date(2026, 3, 3), "infrastructure", 20_000_000, "eur"),  # × 1.1 = 22.00 usd
        Cost(date(2026, 3, 8), "other", 99_000_000),  # the --to day: out
        Cost(date(2026, 2, 27), "marketing", 30_000_000, channel="ads"),
    ]
    fx = {
        (date(2026, 3, 4), "eur"): Decimal("1.0825"),
        (date(2026, 3, 3), "eur"): Decimal("1.1"),
        (date(2026, 2, 25), "eur"): Decimal("1.2"),  # not the day of txn_prev_eur
    }
    return Dataset(bts, charges, tasks, costs, fx)


def _round(value: Decimal | None) -> int | None:
    return None if value is None else int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def expected(data: Dataset, start: datetime, end: datetime, zone: ZoneInfo) -> dict:
    """The figures, computed straight from the dataset lists by the definitions in PRODUCT.md."""

    def in_range(ts: datetime) -> bool:
        return start <= ts < end

    def usd(amount: int, currency: str, day: date) -> Decimal | None:
        if currency == "usd":
            return Decimal(amount)
        rate = data.fx.get((day, currency))
        return None if rate is None else Decimal(amount) * rate

    def total(pairs: list[tuple[int, str, date]], sign: int = 1) -> Decimal | None:
        acc = Decimal(0)
        for amount, currency, day in pairs:
            value = usd(amount, currency, day)
            if value is None:
                return None
            acc += sign * value
        return acc

    bts = [b for b in data.bts if in_range(b.created)]
    day = lambda b: b.created.astimezone(zone).date()  # noqa: E731
    of = lambda cats, attr: [(getattr(b, attr), b.currency, day(b)) for b in bts if b.category in cats]  # noqa: E731
    income = ("charge", "refund", "refund_failure", "dispute", "dispute_reversal", "fee")
    gross = total(of(("charge",), "amount"))
    refunds = total(of(("refund", "refund_failure"), "amount"), -1)
    disputes = total(of(("dispute", "dispute_reversal"), "amount"), -1)
    fee_parts = total(of(income[:-1], "fee"))
    fee_cat = total(of(("fee",), "amount"), -1)
    fees = None if fee_parts is None or fee_cat is None else fee_parts + fee_cat
    net = total(of(income, "net"))

    charges = [c for c in data.charges if in_range(c.created)]
    succeeded = [c for c in charges if c.status == "succeeded"]
    failed = [c for c in charges if c.status == "failed"]
    first_paid: dict[str, datetime] = {}
    for c in sorted(data.charges, key=lambda c: c.created):
        if c.status == "succeeded" and c.customer:
            first_paid.setdefault(c.customer, c.created)
    new_paying = sum(1 for ts in first_paid.values() if in_range(ts))

    tasks = [t for t in data.tasks if in_range(t.started)]
    task_micros = sum(
        t.cost_micros if t.cost_micros is not None else int((t.cost or Decimal(0)) * 1_000_000) for t in tasks
    )
    first_day = start.astimezone(zone).date()
    end_day = end.astimezone(zone).date()
    costs = [c for c in data.costs if first_day <= c.day < end_day]

    def cost_sum(pred) -> Decimal | None:  # noqa: ANN001
        return total([(c.amount_micros, c.currency, c.day) for c in costs if pred(c.category)])

    ai_imported = cost_sum(lambda k: k == "ai")
    ai = None if ai_imported is None else Decimal(task_micros) + ai_imported
    ai = None if ai is None else ai / 10_000  # micros → cents
    other = cost_sum(lambda k: k != "ai")
    other = None if other is None else other / 10_000
    marketing = cost_sum(lambda k: k == "marketing")
    total_cost = None if ai is None or other is None else ai + other
    rate = lambda a, b: None if a is None or b in (None, 0) else float(Decimal(a) / Decimal(b))  # noqa: E731
    return {
        "gross_revenue": _round(gross), "refunds": _round(refunds), "disputes": _round(disputes),
        "fees": _round(fees), "net_revenue": _round(net),
        "charges_succeeded": len(succeeded), "charges_failed": len(failed),
        "failed_payment_rate": rate(len(failed), len(succeeded) + len(failed)),
        "paying_customers": len({c.customer for c in succeeded if c.customer}),
        "new_paying_customers": new_paying,
        "ai_cost": _round(ai), "other_costs": _round(other), "total_cost": _round(total_cost),
        "roi": rate(None if net is None or total_cost is None else net - total_cost, total_cost),
        "gross_margin": rate(None if net is None or ai is None else net - ai, net),
        "cac": None if marketing is None or not new_paying else _round(marketing / 10_000 / new_paying),
        "tasks": len(tasks),
        "task_success_rate": rate(sum(t.status == "succeeded" for t in tasks),
                                  sum(t.status in ("succeeded", "failed") for t in tasks)),
    }


def run_kpis(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict | None, str]:
    code = main(["kpis", *args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


KEYS = [
    "from", "to", "currency", "gross_revenue", "refunds", "disputes", "fees", "net_revenue",
    "charges_succeeded", "charges_failed", "failed_payment_rate", "paying_customers", "new_paying_customers",
    "mrr", "arr", "active_subscribers", "arpa", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
    "reactivation_mrr", "fx_effect", "customer_churn_rate", "nrr", "ltv", "quick_ratio", "ai_cost",
    "other_costs", "total_cost", "roi", "gross_margin", "cac", "tasks", "task_success_rate", "conversion_rate",
    "previous",
]
LATER = ["mrr", "arr", "active_subscribers", "arpa", "new_mrr", "expansion_mrr", "contraction_mrr",
         "churned_mrr", "reactivation_mrr", "fx_effect", "customer_churn_rate", "nrr", "ltv", "quick_ratio",
         "conversion_rate"]


def assert_figures(actual: dict, wanted: dict) -> None:
    for key, value in wanted.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert actual[key] == value, key
            assert type(actual[key]) is type(value), key


def test_every_figure_matches_the_definitions(store, roi_env, capsys):
    data = sample()
    write(store, data)
    code, out, err = run_kpis(capsys, "--from", "2026-03-01", "--to", "2026-03-08")
    assert code == 0, err
    assert list(out) == KEYS
    assert out["from"] == "2026-03-01T00:00:00Z" and out["to"] == "2026-03-08T00:00:00Z"
    assert out["currency"] == "usd"
    want = expected(data, at("2026-03-01 00:00:00"), at("2026-03-08 00:00:00"), ZoneInfo("UTC"))
    assert_figures(out, want)
    # spelled out, so that a wrong definition shared by code and test would still show
    assert out["gross_revenue"] == 18582  # 2500 + 10000 + 5000 + 1082.5 rounded half-even
    assert out["refunds"] == 1500 and out["disputes"] == 2000
    assert out["fees"] == 103 + 320 + 175 + 1500 - 1500 + 999 + 64  # eur fee 59 × 1.0825 = 63.87
    # net is rounded once from its exact sum (13421.6325), not derived from the rounded figures
    assert out["net_revenue"] == 13422
    assert (out["charges_succeeded"], out["charges_failed"]) == (3, 2)
    assert out["failed_payment_rate"] == pytest.approx(0.4)
    assert (out["paying_customers"], out["new_paying_customers"]) == (2, 1)
    assert out["ai_cost"] == 1173  # 123.4567 + 50 + 0.001 + 1000 cents
    assert out["other_costs"] == 100 + 5000 + 2200
    assert out["total_cost"] == 8473
    assert out["cac"] == 5000
    assert out["tasks"] == 4 and out["task_success_rate"] == pytest.approx(2 / 3)
    for key in LATER:
        assert out[key] is None, key


def test_previous_period_and_missing_fx_rate(store, roi_env, capsys):
    data = sample()
    write(store, data)
    code, out, err = run_kpis(capsys, "--from", "2026-03-01", "--to", "2026-03-08")
    assert code == 0, err
    prev = out["previous"]
    assert prev["from"] == "2026-02-22T00:00:00Z" and prev["to"] == "2026-03-01T00:00:00Z"
    assert_figures(prev, expected(data, at("2026-02-22 00:00:00"), at("2026-03-01 00:00:00"), ZoneInfo("UTC")))
    # a eur charge on a day without a rate: its figures are unknown, not zero; the others stand
    assert prev["gross_revenue"] is None and prev["fees"] is None and prev["net_revenue"] is None
    assert prev["roi"] is None and prev["gross_margin"] is None
    assert prev["refunds"] == 1000 and prev["disputes"] == 0
    assert prev["charges_succeeded"] == 1 and prev["new_paying_customers"] == 1
    assert prev["task_success_rate"] == 0.0 and prev["ai_cost"] == 200
    assert prev["cac"] == 3000
    assert set(prev) == set(KEYS) - {"previous", "currency"}


def test_undefined_ratios_are_null_in_an_empty_period(store, roi_env, capsys):
    write(store, sample())
    code, out, err = run_kpis(capsys, "--from", "2025-01-01", "--to", "2025-01-02")
    assert code == 0, err
    assert out["gross_revenue"] == 0 and out["net_revenue"] == 0 and out["tasks"] == 0
    for key in ("failed_payment_rate", "roi", "gross_margin", "cac", "task_success_rate"):
        assert out[key] is None, key


def test_bare_dates_are_midnight_in_the_reporting_zone(store, roi_env, capsys, monkeypatch):
    monkeypatch.setenv("ROI_TIMEZONE", "America/New_York")
    zone = ZoneInfo("America/New_York")
    data = Dataset(
        bts=[
            BT("before", at("2026-03-01 04:59:59"), "charge", 111, 0),  # 23:59:59 local on Feb 28
            BT("first", at("2026-03-01 05:00:00"), "charge", 1000, 30),  # 00:00 local: in
            # 22:00 local on 4 March: takes the rate of the local day, not of the UTC day (5 March)
            BT("eur", at("2026-03-05 03:00:00"), "charge", 2000, 0, "eur"),
            BT("last", at("2026-03-08 04:59:59"), "charge", 3000, 90),  # 23:59:59 local on 7 March: in
            BT("after", at("2026-03-08 05:00:00"), "charge", 777, 0),
        ],
        charges=[Charge("c1", at("2026-03-01 05:00:00"), "succeeded", "cus_1")],
        tasks=[Task("t1", at("2026-03-08 04:00:00"), "succeeded", 5_000, None)],
        costs=[Cost(date(2026, 3, 7), "ai", 1_000_000), Cost(date(2026, 3, 8), "ai", 7_000_000)],
        fx={(date(2026, 3, 4), "eur"): Decimal("1.5"), (date(2026, 3, 5), "eur"): Decimal("9")},
    )
    write(store, data)
    code, out, err = run_kpis(capsys, "--from", "2026-03-01", "--to", "2026-03-08")
    assert code == 0, err
    start = datetime(2026, 3, 1, tzinfo=zone)
    end = datetime(2026, 3, 8, tzinfo=zone)
    assert out["from"] == "2026-03-01T05:00:00Z" and out["to"] == "2026-03-08T05:00:00Z"
    assert out["gross_revenue"] == 1000 + 3000 + 3000
    assert_figures(out, expected(data, start, end, zone))
    assert out["ai_cost"] == 100  # the 8 March cost is the --to day; the task's 0.5 cent rounds to even
    assert out["previous"]["from"] == "2026-02-22T05:00:00Z"


def test_explicit_instants_with_offsets(store, roi_env, capsys):
    write(store, sample())
    code, out, err = run_kpis(capsys, "--from", "2026-03-02T10:00:00+00:00", "--to", "2026-03-03T11:30:00Z")
    assert code == 0, err
    assert out["gross_revenue"] == 10000  # ch1 at the --from instant; ch2 at the --to instant is out
    assert out["previous"]["to"] == "2026-03-02T10:00:00Z"


@pytest.mark.parametrize("args, message", [
    (["--from", "last tuesday"], "is not an ISO 8601 date"),
    (["--from", "2026-03-08", "--to", "2026-03-01"], "--to must be after --from"),
])
def test_bad_period_is_a_usage_error(store, roi_env, capsys, args, message):
    code = main(["kpis", *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert message in err and "Traceback" not in err


def test_unmigrated_store_gets_a_plain_message(engine, roi_env, capsys):
    code = main(["kpis", "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "roi db upgrade" in err and "Traceback" not in err
