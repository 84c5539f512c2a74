"""Benchmark of ``roi demo``: how long a demo of N events takes on SQLite and on PostgreSQL.

    python bench/bench_demo.py [--events 1000000] [--seed 7] [--backends sqlite,postgresql]

Each backend runs in a child process of its own (so peak memory is that backend's alone) on a
fresh store: a temporary SQLite file, or a temporary schema in the PostgreSQL database named by
ROI_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test). Migrations
are not timed. Prints a table and writes bench/results/demo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "demo.json"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
END = date(2025, 11, 20)  # fixed, so that runs on different days write the same data


def _count_rows(engine) -> int:
    import sqlalchemy as sa

    from dashboard.schema import metadata

    total = 0
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            total += conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return total


def _run_child(backend: str, events: int, seed: int) -> dict:
    import sqlalchemy as sa

    from dashboard.ingest.demo import generate
    from dashboard.migrate import upgrade
    from dashboard.store import make_engine

    cleanup = None
    if backend == "sqlite":
        folder = tempfile.TemporaryDirectory(prefix="roi-bench-")
        url = f"sqlite:///{folder.name}/demo.sqlite"
        cleanup = folder.cleanup
    else:
        base = os.environ.get("ROI_TEST_POSTGRES_URL", DEFAULT_PG_URL)
        schema = f"bench_demo_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        summary = generate(engine, events=events, seed=seed, progress=sys.stderr.isatty(), end=END)
        seconds = time.perf_counter() - started
        rows = _count_rows(engine)
    finally:
        engine.dispose()
        cleanup()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "backend": backend,
        "events": summary.events,
        "rows": rows,
        "seconds": round(seconds, 2),
        "events_per_s": round(summary.events / seconds),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "tasks": summary.tasks,
        "charges": summary.charges,
        "customers": summary.customers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(_run_child(args.child, args.events, args.seed)))
        return 0

    results = []
    for backend in args.backends.split(","):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", backend, "--events", str(args.events), "--seed", str(args.seed)],
            stdout=subprocess.PIPE, text=True, check=False,
        )
        if proc.returncode != 0:
            print(f"{backend}: failed (exit {proc.returncode})", file=sys.stderr)
            return 1
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    header = f"{'backend':<11}{'events':>11}{'rows':>12}{'seconds':>10}{'events/s':>11}{'rows/s':>10}{'peak RSS MB':>13}"
    print(header)
    for r in results:
        print(f"{r['backend']:<11}{r['events']:>11,}{r['rows']:>12,}{r['seconds']:>10.1f}{r['events_per_s']:>11,}"
              f"{r['rows_per_s']:>10,}{r['peak_rss_mb']:>13.1f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "roi demo",
        "ran_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "seed": args.seed,
        "end": END.isoformat(),
        "results": results,
    }, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
