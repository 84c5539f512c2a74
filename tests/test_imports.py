"""`roi import`: every row checked first, all or nothing, exact values, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.cli import main
from dashboard.ingest.import_formats import FORMATS
from dashboard.ingest.imports import ImportRefused, ImportResult, import_file, write_batch
from dashboard.schema import (
    costs,
    customer_links,
    execution_tasks,
    fx_rates,
    identity_links,
    import_runs,
    metadata,
    model_prices,
    product_events,
)
from dashboard.store import data_version

UTC = timezone.utc
TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "templates"


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.lstrip("\n"), encoding="utf-8", newline="")
    return path


def roi_import(capsys: pytest.CaptureFixture[str], kind: str, path: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["import", kind, str(path), "--quiet", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(engine: sa.Engine, table: sa.Table, *order: str) -> list[dict]:
    with engine.connect() as conn:
        query = sa.select(table).order_by(*(table.c[c] for c in order or [c.name for c in table.primary_key]))
        return [dict(r) for r in conn.execute(query).mappings()]


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text, so two snapshots compare equal only if nothing changed."""
    with engine.connect() as conn:
        return {
            table.name: sorted(tuple(repr(v) for v in r) for r in conn.execute(sa.select(table)))
            for table in metadata.sorted_tables
        }


def events_csv(count: int, *, bad_at: int | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["event_id", "event", "ts", "user_id", "anonymous_id", "channel", "consent"])
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(count):
        ts = (start + timedelta(seconds=37 * i)).isoformat().replace("+00:00", "Z")
        if i == bad_at:
            ts = ts.removesuffix("Z")
        writer.writerow([f"evt_{i:06d}", "visit" if i % 3 else "signup", ts, f"usr_{i % 97}", "", "ads", "true"])
    return out.getvalue()


# --- Good files ------------------------------------------------------------------------


def test_events_import_stores_exact_utc_values(store, roi_env, tmp_path, capsys):
    path = write_csv(tmp_path / "events.csv", """
event_id,event,ts,user_id,anonymous_id,channel,country,device,consent,properties
e1,visit,2026-03-02T09:14:05Z,,anon_1,organic,DE,desktop,,
e2,signup,2026-03-02T11:21:40.250+02:00,usr_1,anon_1,organic,DE,desktop,false,"{""plan"": ""pro"", ""a"": [1, 2]}"
""")
    code, out, _ = roi_import(capsys, "events", path)
    assert code == 0
    assert out.strip() == "events: 2 rows in file, 2 new, 0 already present, 0 replaced"
    stored = rows(store, product_events)
    assert stored[0]["ts"] == datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)
    assert stored[0]["consent"] is True and stored[0]["user_id"] is None and stored[0]["properties"] is None
    assert stored[1]["ts"] == datetime(2026, 3, 2, 9, 21, 40, 250000, tzinfo=UTC)
    assert stored[1]["consent"] is False
    assert stored[1]["properties"] == '{"a":[1,2],"plan":"pro"}'
    runs = rows(store, import_runs)
    assert [(r["kind"], r["file_name"], r["rows_in_file"], r["rows_written"]) for r in runs] == [
        ("events", "events.csv", 2, 2)
    ]


def test_costs_fx_prices_customers_store_exact_amounts(store, roi_env, tmp_path, capsys):
    files = {
        "costs": """
date,category,channel,amount,currency
2026-03-01,marketing,google_ads,412.50,USD
2026-03-01,ai,,12.345678,eur
""",
        "fx": """
date,currency,rate
2026-03-01,EUR,1.084200
""",
        "model-prices": """
ai_model,effective_from,input_per_million,output_per_million
gpt-x,2026-01-01,0.15,0.60
gpt-x,2026-04-01T02:00:00+02:00,3,15.000001
""",
        "customers": """
user_id,customer_id
usr_1,cus_Q1w2E3r4T5y6
""",
    }
    for kind, text in files.items():
        code, _, err = roi_import(capsys, kind, write_csv(tmp_path / f"{kind}.csv", text))
        assert code == 0, err
    assert [(r["date"], r["category"], r["channel"], r["amount_micros"], r["currency"])
            for r in rows(store, costs)] == [
        (date(2026, 3, 1), "ai", "", 12_345_678, "eur"),
        (date(2026, 3, 1), "marketing", "google_ads", 412_500_000, "usd"),
    ]
    assert [(r["currency"], r["rate"]) for r in rows(store, fx_rates)] == [("eur", Decimal("1.0842"))]
    assert [(r["effective_from"], r["input_per_million_micros"], r["output_per_million_micros"])
            for r in rows(store, model_prices)] == [
        (datetime(2026, 1, 1, tzinfo=UTC), 150_000, 600_000),
        (datetime(2026, 4, 1, tzinfo=UTC), 3_000_000, 15_000_001),
    ]
    assert rows(store, customer_links) == [{"user_id": "usr_1", "customer_id": "cus_Q1w2E3r4T5y6"}]


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_template_imports_and_reimports_as_a_no_op(kind, store, roi_env, capsys):
    path = TEMPLATES / f"{kind}.csv"
    code, out, err = roi_import(capsys, kind, path)
    assert code == 0, err
    assert " 0 already present" in out
    with store.connect() as conn:
        version = data_version(conn)
    before = snapshot(store)
    code, out, err = roi_import(capsys, kind, path)
    assert code == 0, err
    assert ", 0 new," in out and "0 replaced" in out
    assert snapshot(store) == before
    with store.connect() as conn:
        assert data_version(conn) == version


# --- Refusals ----------------------------------------------------------------------------


def test_one_bad_row_among_thousands_refuses_the_file_and_changes_nothing(store, roi_env, backend, tmp_path, capsys):
    assert roi_import(capsys, "events", write_csv(tmp_path / "first.csv", events_csv(50)))[0] == 0
    path = write_csv(tmp_path / "events.csv", events_csv(3000, bad_at=2345))
    before = snapshot(store)
    sqlite_file = Path(store.url.database) if backend == "sqlite" else None
    if sqlite_file:
        store.dispose()
        file_bytes = sqlite_file.read_bytes()

    code, out, err = roi_import(capsys, "events", path)

    assert code == 1 and out == ""
    # Row 2345 sits on line 2347: the header is line 1 and rows are counted from 0.
    assert "line 2347: ts: '2026-03-02T00:06:05' has no UTC offset" in err
    assert "1 problem " in err and "nothing was imported" in err
    if sqlite_file:
        store.dispose()
        assert sqlite_file.read_bytes() == file_bytes
    assert snapshot(store) == before


def test_a_quoted_field_spanning_lines_shifts_the_line_numbers(store, roi_env, tmp_path, capsys):
    path = write_csv(tmp_path / "events.csv", """
event_id,event,ts,user_id,properties
e1,visit,2026-03-02T09:00:00Z,usr_1,"{
  ""note"": ""spans lines"",
  ""n"": 1
}"
e2,visit,2026-03-02T09:00:00Z,usr_1,
e3,visit,not a time,usr_1,
""")
    code, _, err = roi_import(capsys, "events", path)
    assert code == 1
    # e1 starts on line 2 and ends on line 5, so e3 starts on line 7.
    assert "line 7: ts: 'not a time' is not an ISO 8601 timestamp" in err
    assert "1 problem " in err

    path.write_text(path.read_text().replace("not a time", "2026-03-02T10:00:00Z"), newline="")
    code, _, err = roi_import(capsys, "events", path)
    assert code == 0, err
    assert rows(store, product_events)[0]["properties"] == '{"n":1,"note":"spans lines"}'


def test_a_timestamp_without_offset_is_refused(store, roi_env, tmp_path, capsys):
    path = write_csv(tmp_path / "tasks.csv", """
task_id,user_id,task_type,status,started_at
t1,usr_1,summarize,succeeded,2026-03-02T09:00:00Z
t2,usr_1,summarize,succeeded,2026-03-02T09:00:00
t3,usr_1,summarize,succeeded,2026-03-02
""")
    code, _, err = roi_import(capsys, "tasks", path)
    assert code == 1
    assert "line 3: started_at: '2026-03-02T09:00:00' has no UTC offset" in err
    assert "line 4: started_at: '2026-03-02' has no UTC offset" in err
    assert rows(store, execution_tasks) == []


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("tasks", "task_id,user_id,task_type,status,started_at\nt1,u,x,done,2026-03-02T09:00:00Z\n",
         "line 2: status: 'done' is not one of succeeded, failed, cancelled"),
        ("tasks", "task_id,user_id,task_type,status,started_at,finished_at\n"
                  "t1,u,x,failed,2026-03-02T09:00:00Z,2026-03-02T08:59:59Z\n",
         "line 2: finished_at: 2026-03-02T08:59:59+00:00 is before started_at"),
        ("tasks", "task_id,user_id,task_type,status,started_at,input_tokens\nt1,u,x,failed,2026-03-02T09:00:00Z,-3\n",
         "line 2: input_tokens: -3 is negative"),
        ("costs", "date,category,amount,currency\n2026-03-01,ai,0.0000001,usd\n",
         "line 2: amount: 1E-7 has more than 6 decimal places"),
        ("costs", "date,category,amount,currency\n2026-03-01,ads,1,usd\n",
         "line 2: category: 'ads' is not one of marketing, infrastructure, ai, other"),
        ("fx", "date,currency,rate\n2026-03-01,eur,0\n", "line 2: rate: 0 is not greater than 0"),
        ("customers", "user_id,customer_id\nusr_1,42\n", "line 2: customer_id: '42' is not a Stripe customer id"),
        ("events", "event_id,event,ts,user_id,anonymous_id\ne1,visit,2026-03-02T09:00:00Z,,\n",
         "line 2: needs user_id or anonymous_id (at least one)"),
        ("events", "event_id,event,ts,user_id,properties\ne1,visit,2026-03-02T09:00:00Z,u,[1]\n",
         "line 2: properties: must be a JSON object"),
        ("events", "event_id,event,ts,user_id,consnt\ne1,visit,2026-03-02T09:00:00Z,u,true\n",
         "line 1: unknown column 'consnt'"),
        ("events", "event_id,ts,user_id\ne1,2026-03-02T09:00:00Z,u\n", "line 1: missing required column 'event'"),
    ],
)
def test_bad_cells_and_headers_are_named_with_their_reason(kind, text, reason, store, roi_env, tmp_path, capsys):
    code, _, err = roi_import(capsys, kind, write_csv(tmp_path / "in.csv", text))
    assert code == 1
    assert reason in err
    assert snapshot(store)[FORMATS[kind].table.name] == []


def test_a_duplicate_key_in_the_file_names_both_lines(store, roi_env, tmp_path, capsys):
    path = write_csv(tmp_path / "fx.csv", """
date,currency,rate
2026-03-01,eur,1.08
2026-03-01,gbp,1.27
2026-03-02,eur,1.09
2026-03-01,EUR,1.08
""")
    code, _, err = roi_import(capsys, "fx", path)
    assert code == 1
    assert "line 2: duplicate key date=2026-03-01, currency=eur: on lines 2 and 5" in err
    assert rows(store, fx_rates) == []


def test_conflicting_content_is_refused_unless_replace(store, roi_env, tmp_path, capsys):
    first = write_csv(tmp_path / "costs.csv", """
date,category,channel,amount,currency
2026-03-01,marketing,google_ads,100.00,usd
2026-03-01,infrastructure,,50,usd
""")
    assert roi_import(capsys, "costs", first)[0] == 0
    changed = write_csv(tmp_path / "costs2.csv", """
date,category,channel,amount,currency
2026-03-01,marketing,google_ads,120.00,usd
2026-03-01,infrastructure,,50.000,usd
2026-03-02,marketing,google_ads,80,usd
""")
    before = snapshot(store)
    code, _, err = roi_import(capsys, "costs", changed)
    assert code == 1
    assert "1 row has a key already in the store with different content" in err
    assert "line 2: date=2026-03-01, category=marketing, channel=google_ads (differs in: amount_micros)" in err
    assert "--replace" in err
    assert snapshot(store) == before

    code, out, err = roi_import(capsys, "costs", changed, "--replace")
    assert code == 0, err
    assert out.strip() == "costs: 3 rows in file, 1 new, 1 already present, 1 replaced"
    assert [(r["date"], r["category"], r["amount_micros"]) for r in rows(store, costs)] == [
        (date(2026, 3, 1), "infrastructure", 50_000_000),
        (date(2026, 3, 1), "marketing", 120_000_000),
        (date(2026, 3, 2), "marketing", 80_000_000),
    ]


# --- Parquet -----------------------------------------------------------------------------


def test_parquet_imports_and_names_bad_rows_by_index(store, roi_env, tmp_path, capsys):
    berlin = timezone(timedelta(hours=1))
    good = pa.table({
        "task_id": ["t1", "t2"],
        "user_id": ["usr_1", "usr_2"],
        "task_type": ["summarize", "extract"],
        "status": ["succeeded", "failed"],
        "started_at": pa.array([datetime(2026, 3, 2, 10, tzinfo=berlin), datetime(2026, 3, 2, 9, tzinfo=UTC)],
                               pa.timestamp("us", tz="Europe/Berlin")),
        "input_tokens": pa.array([1200, None], pa.int64()),
        "cost": pa.array([Decimal("0.001234"), None], pa.decimal128(12, 6)),
    })
    pq.write_table(good, tmp_path / "tasks.parquet")
    code, out, err = roi_import(capsys, "tasks", tmp_path / "tasks.parquet")
    assert code == 0, err
    assert out.strip() == "tasks: 2 rows in file, 2 new, 0 already present, 0 replaced"
    stored = rows(store, execution_tasks)
    assert stored[0]["started_at"] == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert (stored[0]["input_tokens"], stored[0]["cost_micros"]) == (1200, 1234)
    assert stored[1]["cost"] is None and stored[1]["cost_micros"] is None

    bad = pa.table({
        "task_id": ["t3", "t4", "t5"],
        "user_id": ["usr_1", "usr_1", "usr_1"],
        "task_type": ["x", "x", "x"],
        "status": ["succeeded", "succeeded", "exploded"],
        "started_at": pa.array([datetime(2026, 3, 2, 9)] * 3, pa.timestamp("us")),  # no time zone
    })
    pq.write_table(bad, tmp_path / "bad.parquet")
    code, _, err = roi_import(capsys, "tasks", tmp_path / "bad.parquet")
    assert code == 1
    assert "rows are numbered from 0" in err
    assert "row 0: started_at: 2026-03-02 09:00:00 has no UTC offset" in err
    assert "row 2: status: 'exploded' is not one of" in err
    assert len(rows(store, execution_tasks)) == 2


# --- Derived data ------------------------------------------------------------------------


def test_task_cost_is_derived_from_the_model_price_in_force(store, roi_env, tmp_path, capsys):
    prices = write_csv(tmp_path / "prices.csv", """
ai_model,effective_from,input_per_million,output_per_million
gpt-x,2026-01-01,1.00,2.00
gpt-x,2026-02-01T00:00:00Z,0.50,1.00
""")
    assert roi_import(capsys, "model-prices", prices)[0] == 0
    tasks = write_csv(tmp_path / "tasks.csv", """
task_id,user_id,task_type,status,started_at,ai_model,input_tokens,output_tokens,cost
jan,u,x,succeeded,2026-01-31T23:59:59Z,gpt-x,1000,500,
feb,u,x,succeeded,2026-02-01T00:00:00Z,gpt-x,1000,500,
half_down,u,x,succeeded,2026-02-02T00:00:00Z,gpt-x,1,,
half_up,u,x,succeeded,2026-02-02T00:00:00Z,gpt-x,3,,
given,u,x,succeeded,2026-02-02T00:00:00Z,gpt-x,1000,500,0.000123
before_any_price,u,x,succeeded,2025-12-31T23:59:59Z,gpt-x,1000,500,
unknown_model,u,x,succeeded,2026-02-02T00:00:00Z,other,1000,500,
no_tokens,u,x,cancelled,2026-02-02T00:00:00Z,gpt-x,,,
""")
    code, _, err = roi_import(capsys, "tasks", tasks)
    assert code == 0, err
    got = {r["task_id"]: (r["cost_micros"], r["cost"]) for r in rows(store, execution_tasks)}
    assert got == {
        "jan": (2000, Decimal("0.002")),  # 1000 × 1.00 + 500 × 2.00 per million
        "feb": (1000, Decimal("0.001")),  # the price from 2026-02-01 00:00 UTC applies
        "half_down": (0, Decimal("0")),  # 0.5 micros rounds half-even to 0
        "half_up": (2, Decimal("0.000002")),  # 1.5 micros rounds half-even to 2
        "given": (123, Decimal("0.000123")),
        "before_any_price": (None, None),
        "unknown_model": (None, None),
        "no_tokens": (None, None),
    }
    # Re-importing the same tasks compares the derived cost and finds nothing to do.
    code, out, _ = roi_import(capsys, "tasks", tasks)
    assert code == 0 and ", 0 new, 8 already present" in out


def test_an_event_with_both_ids_links_them_and_the_earliest_link_wins(store, roi_env, tmp_path, capsys):
    path = write_csv(tmp_path / "events.csv", """
event_id,event,ts,user_id,anonymous_id
e1,visit,2026-03-02T08:00:00Z,,anon_1
e2,signup,2026-03-02T09:30:00Z,usr_late,anon_1
e3,login,2026-03-02T09:00:00Z,usr_early,anon_1
e4,visit,2026-03-02T09:00:00Z,,anon_2
""")
    assert roi_import(capsys, "events", path)[0] == 0
    assert rows(store, identity_links) == [
        {"anonymous_id": "anon_1", "user_id": "usr_early", "linked_at": datetime(2026, 3, 2, 9, tzinfo=UTC)}
    ]
    later = write_csv(tmp_path / "later.csv", """
event_id,event,ts,user_id,anonymous_id
e5,login,2026-03-02T07:00:00Z,usr_first,anon_1
e6,login,2026-03-03T07:00:00Z,usr_2,anon_2
""")
    assert roi_import(capsys, "events", later)[0] == 0
    assert [(r["anonymous_id"], r["user_id"]) for r in rows(store, identity_links)] == [
        ("anon_1", "usr_first"), ("anon_2", "usr_2")
    ]


def test_write_batch_is_the_same_path_for_generated_rows(store):
    with store.begin() as conn:
        write_batch(conn, "model-prices", [
            {"ai_model": "m", "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
             "input_per_million_micros": 2_000_000, "output_per_million_micros": 8_000_000},
        ])
        write_batch(conn, "events", [
            {"event_id": "g1", "event": "signup", "ts": datetime(2026, 3, 1, 12, tzinfo=UTC),
             "user_id": "usr_9", "anonymous_id": "anon_9", "channel": "ads", "country": None,
             "device": None, "consent": True, "properties": None},
        ])
        write_batch(conn, "tasks", [
            {"task_id": "g1", "user_id": "usr_9", "task_type": "x", "status": "succeeded",
             "started_at": datetime(2026, 3, 1, 12, tzinfo=UTC), "ai_model": "m",
             "input_tokens": 1000, "output_tokens": 250, "cost": None},
        ])
    assert rows(store, identity_links)[0]["user_id"] == "usr_9"
    task = rows(store, execution_tasks)[0]
    assert (task["cost_micros"], task["cost"]) == (4000, Decimal("0.004"))


# --- Robustness --------------------------------------------------------------------------

TASK_HEADER = ["task_id", "user_id", "task_type", "status", "started_at", "ai_model", "finished_at",
               "input_tokens", "output_tokens", "cost", "customer_id", "error"]
TASK_ROW = ["t1", "usr_1", "summarize", "succeeded", "2026-03-02T09:00:00Z", "gpt-x",
            "2026-03-02T09:00:05Z", "10", "20", "0.5", "cus_A1", ""]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.integers(0, len(TASK_HEADER) - 1), garbage=st.text(max_size=40), raw=st.booleans())
def test_garbage_in_a_cell_is_refused_or_imported_never_a_crash(store, tmp_path, column, garbage, raw):
    cells = list(TASK_ROW)
    cells[column] = garbage
    if raw:  # written as is, so it may break the CSV structure itself
        text = ",".join(TASK_HEADER) + "\n" + ",".join(cells) + "\n"
    else:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([TASK_HEADER, cells])
        text = out.getvalue()
    path = tmp_path / "garbage.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        result = import_file(store, "tasks", path)
    except ImportRefused as refused:
        assert "refused garbage.csv" in refused.report()
    else:
        assert isinstance(result, ImportResult)
