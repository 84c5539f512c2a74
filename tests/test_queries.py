"""The named queries: documented, one source for both backends, values always bound."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa

import queries
from dashboard import schema
from dashboard.ingest.writer import insert_rows
from dashboard.periods import Period
from dashboard.store import bump_data_version, set_meta
from queries.status import store_status
from queries.timeseries import cost_by_day, revenue_by_day

UTC = timezone.utc
HOSTILE = "x'; DROP TABLE stripe_charges; --"
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 8, tzinfo=UTC)
PARAMS = {
    "start": START, "end": END, "tz": "UTC", "currency": "usd",
    "first_day": date(2026, 3, 1), "last_day": date(2026, 3, 7), "end_day": date(2026, 3, 8),
}


def _charge(id_: str, created: datetime, status: str = "succeeded") -> dict:
    return {"id": id_, "livemode": False, "created": created, "raw": "{}", "synced_at": created,
            "customer_id": "cus_1", "amount": 500, "currency": "usd", "status": status}


def _bt(id_: str, created: datetime, amount: int, fee: int, currency: str = "usd") -> dict:
    return {"id": id_, "livemode": False, "created": created, "raw": "{}", "synced_at": created,
            "type": "charge", "reporting_category": "charge", "amount": amount, "fee": fee,
            "net": amount - fee, "currency": currency}


def test_every_query_has_a_name_and_a_doc_line():
    catalog = queries.catalog()
    assert {"cash-by-category", "charge-counts", "revenue-by-day", "task-cost-by-day", "store-contents"} <= set(catalog)
    for name, query in catalog.items():
        assert query.name == name
        assert len(query.doc) > 20, f"{name} has no real doc line"


def test_a_query_without_doc_line_is_refused():
    with pytest.raises(queries.QueryFileError, match="no doc line"):
        queries.parse("-- name: bare\nSELECT 1", "bad.sql")


def test_every_query_runs_on_both_backends(store):
    with store.connect() as conn:
        for name in queries.names():
            frame = queries.run(conn, name, **PARAMS)
            assert frame.columns.size > 0, name


def test_render_shows_the_statement_and_its_bound_values(store):
    with store.connect() as conn:
        text, values = queries.render(conn, "charge-counts", **PARAMS)
    assert "FROM stripe_charges" in text
    assert "2026" not in text  # dates are bound, not written into the statement
    assert values == {"start": START, "end": END}
    placeholder = "?" if store.dialect.name == "sqlite" else "%(start)s"
    assert placeholder in text


def test_local_day_macro_differs_by_backend_only_in_spelling(store):
    with store.connect() as conn:
        text, values = queries.render(conn, "revenue-by-day", **PARAMS)
    assert values["tz"] == "UTC"
    if store.dialect.name == "sqlite":
        assert "roi_local_date(bt.created, ?)" in text
    else:
        assert "AT TIME ZONE %(tz)s" in text
    assert "{{" not in text


def test_a_hostile_value_is_just_a_value(store):
    with store.begin() as conn:
        insert_rows(conn, schema.stripe_charges, [_charge("ch_1", datetime(2026, 3, 2, tzinfo=UTC))])
        insert_rows(conn, schema.stripe_balance_transactions, [_bt("txn_1", datetime(2026, 3, 2, tzinfo=UTC), 500, 20)])
    with store.connect() as conn:
        text, values = queries.render(conn, "cash-by-category", **{**PARAMS, "currency": HOSTILE})
        assert "DROP TABLE" not in text
        assert values["currency"] == HOSTILE
        frame = queries.run(conn, "cash-by-category", **{**PARAMS, "currency": HOSTILE})
        # the hostile text is compared as a currency code: usd is simply "another currency"
        assert frame["currency"].tolist() == ["usd"]
        assert frame["day"].tolist() == ["2026-03-02"]
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stripe_charges")).scalar_one() == 1


def test_missing_parameter_is_named(store):
    with store.connect() as conn, pytest.raises(TypeError, match="start"):
        queries.run(conn, "charge-counts", end=END)


def test_days_are_cut_in_the_reporting_zone(store):
    # 03:00 UTC on 5 March is 22:00 on 4 March in New York
    with store.begin() as conn:
        insert_rows(conn, schema.stripe_balance_transactions, [
            _bt("txn_1", datetime(2026, 3, 5, 3, 0, tzinfo=UTC), 1000, 30),
            _bt("txn_2", datetime(2026, 3, 5, 12, 0, tzinfo=UTC), 2000, 60),
        ])
    zone = ZoneInfo("America/New_York")
    period = Period(datetime(2026, 3, 1, tzinfo=zone).astimezone(UTC), datetime(2026, 3, 8, tzinfo=zone).astimezone(UTC))
    with store.connect() as conn:
        frame = revenue_by_day(conn, period, "usd", zone)
    assert frame["day"].tolist() == [date(2026, 3, d) for d in range(1, 8)]
    by_day = dict(zip(frame["day"], frame["gross_revenue"]))
    assert by_day[date(2026, 3, 4)] == 1000 and by_day[date(2026, 3, 5)] == 2000
    assert by_day[date(2026, 3, 1)] == 0


def test_a_day_without_fx_rate_has_no_revenue_figure(store):
    with store.begin() as conn:
        insert_rows(conn, schema.stripe_balance_transactions, [
            _bt("txn_eur", datetime(2026, 3, 2, 9, tzinfo=UTC), 1000, 0, "eur"),
            _bt("txn_eur2", datetime(2026, 3, 3, 9, tzinfo=UTC), 1000, 0, "eur"),
        ])
        insert_rows(conn, schema.fx_rates, [{"date": date(2026, 3, 3), "currency": "eur", "rate": "1.25"}])
        insert_rows(conn, schema.costs, [
            {"date": date(2026, 3, 4), "category": "ai", "channel": "", "amount_micros": 2_000_000, "currency": "usd"},
        ])
    with store.connect() as conn:
        revenue = revenue_by_day(conn, Period(START, END), "usd", ZoneInfo("UTC"))
        cost = cost_by_day(conn, Period(START, END), "usd", ZoneInfo("UTC"))
    by_day = dict(zip(revenue["day"], revenue["gross_revenue"]))
    assert pd.isna(by_day[date(2026, 3, 2)])
    assert by_day[date(2026, 3, 3)] == 1250
    assert dict(zip(cost["day"], cost["ai_cost"]))[date(2026, 3, 4)] == 200


def test_store_status_reports_empty_demo_and_last_write(store):
    with store.connect() as conn:
        status = store_status(conn)
    assert status.ready and status.empty and not status.demo and status.updated_at is None
    with store.begin() as conn:
        insert_rows(conn, schema.stripe_charges, [_charge("ch_1", datetime(2026, 3, 2, tzinfo=UTC))])
        set_meta(conn, "demo", "1")
        bump_data_version(conn)
    with store.connect() as conn:
        after = store_status(conn)
    assert not after.empty and after.demo
    assert after.updated_at is not None and after.updated_at.tzinfo is not None
    assert after.data_version and after.data_version != status.data_version


def test_store_status_names_missing_tables(engine):
    with engine.connect() as conn:
        status = store_status(conn)
    assert not status.ready and "stripe_balance_transactions" in status.missing_tables
