"""Every setting of the dashboard, declared once with its default and a line of help.

Values come from the environment first, then from ``.streamlit/secrets.toml`` in the working
directory (top-level keys, same names). Secret values are never printed: use
:func:`describe` for anything shown to a person.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///data/roi.sqlite"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("ROI_DATABASE_URL", DEFAULT_DATABASE_URL,
            "SQLAlchemy URL of the store (relative SQLite paths are relative to the working directory).",
            secret=True),
    Setting("STRIPE_API_KEY", None,
            "Stripe secret or restricted key (read-only is enough); unset means no Stripe sync.", secret=True),
    Setting("STRIPE_API_BASE", None, "Base URL of the Stripe API, for a proxy, a local mock or tests."),
    Setting("STRIPE_WEBHOOK_SECRET", None,
            "whsec_… secret to verify webhook signatures; unset means the receiver refuses to start.",
            secret=True),
    Setting("ROI_REPORTING_CURRENCY", "usd", "Currency of every reported amount (ISO 4217, lower case)."),
    Setting("ROI_TIMEZONE", "UTC", "Time zone in which days, weeks and months are cut."),
    Setting("ROI_CACHE_TTL_SECONDS", "300", "Longest time an aggregated query result is kept in the dashboard cache."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _secrets_file() -> dict[str, Any]:
    path = Path.cwd() / ".streamlit" / "secrets.toml"
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def get(name: str) -> str | None:
    """The value of one declared setting: environment, then secrets.toml, then the default."""
    setting = _BY_NAME[name]
    value = os.environ.get(name)
    if value is None or value == "":
        stored = _secrets_file().get(name)
        value = str(stored) if stored not in (None, "") else None
    return value if value is not None else setting.default


def database_url() -> str:
    return get("ROI_DATABASE_URL") or DEFAULT_DATABASE_URL


def reporting_currency() -> str:
    return (get("ROI_REPORTING_CURRENCY") or "usd").lower()


def timezone() -> ZoneInfo:
    name = get("ROI_TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"ROI_TIMEZONE={name!r} is not a known time zone") from exc


def int_setting(name: str) -> int:
    raw = get(name)
    try:
        return int(raw) if raw is not None else 0
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a whole number") from exc


def is_embedded_default(url: str | None = None) -> bool:
    """True when the store is the zero-set-up SQLite file (no ROI_DATABASE_URL configured)."""
    return (url or database_url()) == DEFAULT_DATABASE_URL


def describe(name: str) -> str:
    """A value safe to show: secrets are masked, database passwords removed."""
    setting = _BY_NAME[name]
    value = get(name)
    if value is None:
        return "(unset)"
    if name == "ROI_DATABASE_URL":
        from sqlalchemy.engine import make_url

        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - an unparsable URL is shown as masked
            return "(unparsable URL)"
    if setting.secret:
        return f"{value[:3]}…(set, {len(value)} characters)" if len(value) > 8 else "(set)"
    return value
