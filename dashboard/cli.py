"""The ``roi`` command line.

Every command prints a plain message and exits non-zero on failure; a traceback is a bug.
Exit codes: 0 success, 1 a check failed or input was refused, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from dashboard import settings
from dashboard.migrate import MigrationRefused
from dashboard.store import StoreUnavailable, make_engine

log = logging.getLogger("roi")

IMPORT_KINDS = ("events", "tasks", "costs", "fx", "model-prices", "customers")


class UsageError(Exception):
    """Bad arguments or configuration; the message is shown as is, exit 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roi", description="ROI and income KPI dashboard.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("dashboard", help="run the Streamlit dashboard")
    p.add_argument("--port", type=_port, default=8501)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--no-demo", action="store_true", help="never load demo data into an empty store")

    p = sub.add_parser("demo", help="fill an empty store with a reproducible demo dataset")
    p.add_argument("--events", type=_positive_int, default=200_000, help="number of product events")
    p.add_argument("--seed", type=_positive_int, default=7)
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    db = sub.add_parser("db", help="schema migrations and drift checks").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    p = db.add_parser("upgrade", help="migrate the store to the latest schema (adopts foreign tables)")
    p.add_argument("revision", nargs="?", default="head")
    p.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    p = db.add_parser("downgrade", help="take migrations back to REV (never drops adopted tables or columns)")
    p.add_argument("revision")
    p.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    db.add_parser("current", help="print the store's schema revision")
    db.add_parser("check", help="compare the live schema with the expected one; exit 1 on drift")

    p = sub.add_parser("import", help="import a CSV or Parquet file, all rows or none")
    p.add_argument("kind", choices=IMPORT_KINDS)
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="update rows whose key exists with other content")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("kpis", help="headline KPIs for a period")
    p.add_argument("--from", dest="start")
    p.add_argument("--to", dest="end")
    p.add_argument("--json", action="store_true", help="print JSON (the default output)")
    return parser


def _engine():
    return make_engine()


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.launcher import run_dashboard

    return run_dashboard(host=args.host, port=args.port, allow_demo=not args.no_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from dashboard.ingest.demo import DemoRefused, generate
    from dashboard.migrate import upgrade

    engine = _engine()
    upgrade(engine)
    try:
        summary = generate(engine, events=args.events, seed=args.seed, progress=not args.quiet)
    except DemoRefused as refused:
        print(f"roi: {refused}", file=sys.stderr)
        return 1
    print(summary.describe())
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from dashboard import migrate, schema_check

    engine = _engine()
    if args.db_command == "upgrade":
        for line in migrate.upgrade(engine, args.revision, sql=args.sql, out=sys.stdout):
            print(line, file=sys.stderr if args.sql else sys.stdout)
        if not args.sql:
            print(f"schema at {migrate.current(engine)}")
        return 0
    if args.db_command == "downgrade":
        for line in migrate.downgrade(engine, args.revision, sql=args.sql, out=sys.stdout):
            print(line, file=sys.stderr if args.sql else sys.stdout)
        if not args.sql:
            print(f"schema at {migrate.current(engine) or 'base (no migrations applied)'}")
        return 0
    if args.db_command == "current":
        print(migrate.current(engine) or "base (no migrations applied)")
        return 0
    drift = schema_check.check(engine)
    for line in drift:
        print(line)
    if drift:
        print(f"{len(drift)} difference(s) from the expected schema; run `roi db upgrade` to fix what can be added",
              file=sys.stderr)
        return 1
    print(f"schema OK: {schema_check.expected_summary()}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from dashboard.ingest.imports import ImportRefused, import_file
    from dashboard.migrate import upgrade

    engine = _engine()
    upgrade(engine)
    try:
        result = import_file(engine, args.kind, args.file, replace=args.replace, progress=not args.quiet)
    except ImportRefused as refused:
        print(refused.report(), file=sys.stderr)
        return 1
    print(result.describe())
    return 0


def cmd_kpis(args: argparse.Namespace) -> int:
    from dashboard.periods import resolve
    from queries.kpis import headline_kpis

    try:
        period = resolve(args.start, args.end, settings.timezone())
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    engine = _engine()
    with engine.connect() as conn:
        figures = headline_kpis(conn, period, settings.reporting_currency(), settings.timezone())
    print(json.dumps(figures, indent=2))
    return 0


COMMANDS = {
    "dashboard": cmd_dashboard,
    "demo": cmd_demo,
    "db": cmd_db,
    "import": cmd_import,
    "kpis": cmd_kpis,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    import sqlalchemy as sa

    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"roi: {exc}", file=sys.stderr)
        return 2
    except (StoreUnavailable, MigrationRefused) as exc:
        print(f"roi: {exc}", file=sys.stderr)
        return 2
    except sa.exc.DBAPIError as exc:  # unreachable, locked, or drifted (a missing column) store
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(f"roi: the store cannot be used: {reason}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("roi: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
