"""``roi dashboard``: prepare the store, then serve the Streamlit app in this process.

The store is migrated first. On the embedded default (no ROI_DATABASE_URL) an empty store
with no Stripe key gets the demo data, so a first run shows something; any other database is
left as it is, and the app explains how to load data. Streamlit gets its whole configuration
(theme, toolbar, headless, address and port) from here, read from the packaged
``streamlit_config/config.toml``, so the app looks the same from any working directory.
"""

from __future__ import annotations

import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dashboard import settings
from dashboard.store import StoreUnavailable, check_reachable, make_engine

log = logging.getLogger(__name__)

APP = Path(__file__).with_name("app.py")
STREAMLIT_CONFIG = Path(__file__).parent / "streamlit_config" / "config.toml"
DEMO_EVENTS = 200_000
DEMO_SEED = 7


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def streamlit_options(host: str, port: int) -> dict[str, Any]:
    """Every Streamlit option the dashboard runs with, by dotted name (``theme.base``, ...)."""
    with STREAMLIT_CONFIG.open("rb") as fh:
        options = _flatten(tomllib.load(fh))
    options.update({
        "server.address": host,
        "server.port": port,
        "server.headless": True,
        "browser.gatherUsageStats": False,
        "client.toolbarMode": "viewer",
        "server.fileWatcherType": "none",
    })
    return options


def _prepare_store(allow_demo: bool) -> None:
    """Migrate the store; fill an empty embedded default with demo data when allowed."""
    from dashboard.migrate import upgrade
    from queries.status import store_status

    engine = make_engine()
    try:
        check_reachable(engine)
        upgrade(engine)
        with engine.connect() as conn:
            status = store_status(conn)
        wants_demo = (
            allow_demo and status.empty and settings.is_embedded_default() and not settings.get("STRIPE_API_KEY")
        )
        if wants_demo:
            from dashboard.ingest.demo import generate

            print(f"The store is empty: generating demo data ({DEMO_EVENTS:,} events) first. "
                  "Every page will say that it shows demo data.", flush=True)
            summary = generate(engine, events=DEMO_EVENTS, seed=DEMO_SEED, progress=True)
            print(summary.describe(), flush=True)
        elif status.empty:
            print("The store is empty: the dashboard explains how to load data "
                  "(roi demo, roi sync stripe, roi import ...).", flush=True)
    finally:
        engine.dispose()


def run_dashboard(host: str, port: int, allow_demo: bool) -> int:
    """Prepare the store and serve the dashboard until interrupted; a plain message on failure."""
    try:
        settings.timezone()
        _prepare_store(allow_demo)
    except ValueError as exc:
        print(f"roi: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"roi: {exc}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"roi: the store cannot be used: {reason}", file=sys.stderr)
        return 2

    from streamlit import config as st_config
    from streamlit.web import bootstrap

    options = streamlit_options(host, port)
    # Streamlit looks for .streamlit/ next to the main script too; naming the script before
    # loading options keeps its behaviour identical to `streamlit run`.
    st_config._main_script_path = str(APP)
    bootstrap.load_config_options(flag_options=options)
    bootstrap.run(str(APP), False, [], options)
    return 0
