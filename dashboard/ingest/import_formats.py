"""What each kind of import file looks like: its columns, how a cell is read, its key.

One :class:`ImportFormat` per kind (``events``, ``tasks``, ``costs``, ``fx``, ``model-prices``,
``customers``). A format turns one file row (column name -> raw cell: text from CSV, native
values from Parquet) into a row in store-column form, or into the list of reasons it is bad.
Cells are never guessed at: a timestamp without a UTC offset, a decimal with more places than
the store keeps, an unknown enum value are all refused with a reason a person can act on.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from dashboard.money import MICROS_PER_UNIT, parse_decimal, to_micros
from dashboard.schema import costs, customer_links, execution_tasks, fx_rates, model_prices, product_events
from dashboard.types import UTC

log = logging.getLogger(__name__)

INT64_MAX = 2**63 - 1
Parser = Callable[[Any], Any]


# --- Cell parsers: raw cell -> store value, or ValueError with a plain reason --------------


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_blank(value: Any) -> bool:
    """An absent cell: empty or whitespace-only text, a null, or a float NaN (Parquet/pandas nulls)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    return False


def parse_text(value: Any) -> str:
    """Text, stripped; whole numbers from Parquet are accepted as their decimal text."""
    if isinstance(value, str):
        if "\x00" in value:
            # PostgreSQL cannot store it, and it is never meant.
            raise ValueError(f"{_show(value)} contains a NUL character")
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__} {_show(value)}")


def _plain_datetime(value: datetime) -> datetime:
    # pandas/pyarrow hand back datetime subclasses (Timestamp) that the drivers do not all accept.
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                    value.microsecond, tzinfo=value.tzinfo)


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp with a UTC offset ('Z' accepted), as an aware UTC datetime."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{_show(value)} is not an ISO 8601 timestamp") from None
    elif isinstance(value, date):
        raise ValueError(f"{value.isoformat()} is a date, not a timestamp with a UTC offset")
    else:
        raise ValueError(f"expected an ISO 8601 timestamp, got {type(value).__name__} {_show(value)}")
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        raise ValueError(f"{_show(value)} has no UTC offset; add 'Z' for UTC or an offset such as +01:00")
    try:
        return _plain_datetime(ts).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{_show(value)} is out of range") from None


def parse_timestamp_or_date(value: Any) -> datetime:
    """A timestamp with a UTC offset, or a bare date meaning 00:00 UTC that day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parse_timestamp(value)


def parse_date(value: Any) -> date:
    """A calendar date, ISO 8601 (YYYY-MM-DD)."""
    if isinstance(value, datetime):
        # A date column that went through pandas arrives as a naive midnight timestamp.
        if value.tzinfo is None and (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date()
        raise ValueError(f"{_show(value)} is a timestamp, not a date")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{_show(value)} is not an ISO 8601 date (YYYY-MM-DD)") from None
    raise ValueError(f"expected a date, got {type(value).__name__} {_show(value)}")


def parse_bool(value: Any) -> bool:
    """``true`` or ``false`` (any case), or a Parquet boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "false"):
            return word == "true"
    raise ValueError(f"{_show(value)} is not true or false")


def parse_count(value: Any) -> int:
    """A whole number >= 0 that fits a 64-bit integer."""
    if isinstance(value, bool):
        raise ValueError(f"{_show(value)} is not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        number = int(value)
    else:
        raise ValueError(f"{_show(value)} is not a whole number")
    if number < 0:
        raise ValueError(f"{number} is negative")
    if number > INT64_MAX:
        raise ValueError(f"{number} is too large")
    return number


def parse_decimal_cell(value: Any) -> Decimal:
    """A finite decimal; Parquet integers, decimals and floats (by their shortest text) are accepted."""
    if isinstance(value, bool):
        raise ValueError(f"{_show(value)} is not a decimal number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = parse_decimal(value)
    else:
        raise ValueError(f"expected a decimal number, got {type(value).__name__} {_show(value)}")
    if not number.is_finite():
        raise ValueError(f"{_show(value)} is not a finite number")
    # Keeps later arithmetic inside the decimal context; nothing the store keeps is near these.
    if number and number.adjusted() > 20:
        raise ValueError(f"{_show(value)} is too large")
    if number and number.adjusted() < -30:
        raise ValueError(f"{_show(value)} has too many decimal places")
    return number


def _micros(value: Any, *, allow_negative: bool) -> int:
    amount = parse_decimal_cell(value)
    if amount < 0 and not allow_negative:
        raise ValueError(f"{amount} is negative")
    micros = to_micros(amount)
    if abs(micros) > INT64_MAX:
        raise ValueError(f"{amount} is too large")
    return micros


def parse_amount_micros(value: Any) -> int:
    """A decimal amount (credits may be negative) as exact micro-units; more than 6 decimals refused."""
    return _micros(value, allow_negative=True)


def parse_price_micros(value: Any) -> int:
    """A non-negative decimal price as exact micro-units; more than 6 decimals refused."""
    return _micros(value, allow_negative=False)


def parse_task_cost(value: Any) -> Decimal:
    """A non-negative decimal with at most 6 places that fits ``execution_tasks.cost`` (18, 6)."""
    amount = parse_decimal_cell(value)
    if amount < 0:
        raise ValueError(f"{amount} is negative")
    to_micros(amount)
    if amount >= Decimal(10) ** 12:
        raise ValueError(f"{amount} is too large")
    return amount


def parse_rate(value: Any) -> Decimal:
    """An exchange rate > 0 with at most 12 decimal places (what the store keeps exactly)."""
    rate = parse_decimal_cell(value)
    if rate <= 0:
        raise ValueError(f"{rate} is not greater than 0")
    if rate.adjusted() >= 16:
        raise ValueError(f"{rate} is too large")
    if rate != rate.quantize(Decimal(10) ** -12):
        raise ValueError(f"{rate} has more than 12 decimal places")
    return rate


def parse_currency(value: Any) -> str:
    """A three-letter ISO 4217 code, stored lower case."""
    text = parse_text(value)
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise ValueError(f"{_show(text)} is not a three-letter currency code")
    return text.lower()


def parse_customer_id(value: Any) -> str:
    """A Stripe customer id such as ``cus_NffrFeUfNV2Hib``."""
    text = parse_text(value)
    if not re.fullmatch(r"cus_[A-Za-z0-9]+", text):
        raise ValueError(f"{_show(text)} is not a Stripe customer id (cus_...)")
    return text


def canonical_json(obj: Any) -> str:
    """The one text form of a JSON value, so that identical properties compare equal byte for byte."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_properties(value: Any) -> str:
    """A JSON object (text, or a Parquet struct/map read as a dict), as canonical JSON text."""
    if isinstance(value, dict):
        obj = value
    elif isinstance(value, str):
        try:
            obj = json.loads(value, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
    else:
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    if not isinstance(obj, dict):
        raise ValueError("must be a JSON object ({...})")
    try:
        return canonical_json(obj)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot be stored as JSON ({exc})") from None


def one_of(*choices: str) -> Parser:
    def parse(value: Any) -> str:
        text = parse_text(value)
        if text not in choices:
            raise ValueError(f"{_show(text)} is not one of {', '.join(choices)}")
        return text

    parse.__doc__ = f"One of {', '.join(choices)}."
    return parse


# --- Formats -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One column of an import file and the store column it fills."""

    name: str
    parse: Parser
    required: bool = False
    column: str = ""  # store column; defaults to ``name``
    default: Any = None  # store value when the column is absent or the cell blank

    @property
    def store_column(self) -> str:
        return self.column or self.name


RowCheck = Callable[[dict[str, Any], list[str]], None]


@dataclass(frozen=True)
class ImportFormat:
    """How one kind of file is read, keyed and compared with the store."""

    kind: str
    table: sa.Table
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # store columns, unique in a file and in the store
    compared: tuple[str, ...]  # store columns that must match for a stored row to be "already present"
    at_least_one_of: tuple[str, ...] = ()  # file columns of which each row must fill one or more
    check: RowCheck | None = None  # cross-column rules on a parsed row; appends reasons
    derived: tuple[str, ...] = ()  # store columns filled outside the file (e.g. cost_micros)
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def columns(self) -> tuple[str, ...]:
        """The file's column names, in template order."""
        return tuple(f.name for f in self.fields)

    @property
    def store_columns(self) -> tuple[str, ...]:
        """Every store column a row of this kind carries, in a fixed order."""
        return tuple(f.store_column for f in self.fields) + self.derived

    def header_problems(self, header: Sequence[str]) -> list[str]:
        """Reasons a file with these column names cannot be imported as this kind (empty: fine)."""
        problems: list[str] = []
        seen: set[str] = set()
        for position, name in enumerate(header, start=1):
            if not name:
                problems.append(f"column {position} has no name in the header")
            elif name in seen:
                problems.append(f"column {name!r} appears twice in the header")
            seen.add(name)
        unknown = [n for n in header if n and n not in self.by_name]
        if unknown:
            problems.append(
                f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"{self.kind} files have: {', '.join(self.columns)}"
            )
        missing = [f.name for f in self.fields if f.required and f.name not in seen]
        if missing:
            problems.append(
                f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
            )
        if self.at_least_one_of and not any(n in seen for n in self.at_least_one_of):
            problems.append(f"needs a column {' or '.join(map(repr, self.at_least_one_of))} (or both)")
        return problems

    def parse_row(self, cells: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The row in store-column form and the reasons it is bad (empty when it is good).

        ``cells`` maps the file's column names to raw values; columns absent from the file
        take their default.
        """
        row: dict[str, Any] = {}
        reasons: list[str] = []
        for f in self.fields:
            raw = cells.get(f.name)
            if is_blank(raw):
                if f.required:
                    reasons.append(f"{f.name}: missing value")
                row[f.store_column] = f.default
                continue
            try:
                row[f.store_column] = f.parse(raw)
            except ValueError as exc:
                reasons.append(f"{f.name}: {exc}")
                row[f.store_column] = None
        for name in self.derived:
            row[name] = None
        if self.at_least_one_of and all(is_blank(cells.get(n)) for n in self.at_least_one_of):
            reasons.append(f"needs {' or '.join(self.at_least_one_of)} (at least one)")
        if not reasons and self.check is not None:
            self.check(row, reasons)
        return row, reasons

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The row's key, or None when a key column could not be read."""
        values = tuple(row.get(c) for c in self.key)
        if any(v is None for v in values):
            return None
        return values

    def describe_key(self, key: Sequence[Any]) -> str:
        """A key as a person reads it, e.g. ``event_id=e_1`` or ``date=2026-01-05, currency=eur``."""
        parts = []
        for name, value in zip(self.key, key):
            if isinstance(value, datetime):
                text = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, date):
                text = value.isoformat()
            elif value == "":
                text = "(none)"
            else:
                text = str(value)
            parts.append(f"{name}={text}")
        return ", ".join(parts)


def _check_task(row: dict[str, Any], reasons: list[str]) -> None:
    started, finished = row["started_at"], row["finished_at"]
    if finished is not None and finished < started:
        reasons.append(
            f"finished_at: {finished.isoformat()} is before started_at {started.isoformat()}"
        )
    if row["cost"] is not None:
        row["cost_micros"] = int(row["cost"] * MICROS_PER_UNIT)


EVENTS = ImportFormat(
    kind="events",
    table=product_events,
    fields=(
        Field("event_id", parse_text, required=True),
        Field("event", parse_text, required=True),
        Field("ts", parse_timestamp, required=True),
        Field("user_id", parse_text),
        Field("anonymous_id", parse_text),
        Field("channel", parse_text),
        Field("country", parse_text),
        Field("device", parse_text),
        Field("consent", parse_bool, default=True),
        Field("properties", parse_properties),
    ),
    key=("event_id",),
    compared=("event", "ts", "user_id", "anonymous_id", "channel", "country", "device", "consent", "properties"),
    at_least_one_of=("user_id", "anonymous_id"),
)

TASKS = ImportFormat(
    kind="tasks",
    table=execution_tasks,
    fields=(
        Field("task_id", parse_text, required=True),
        Field("user_id", parse_text, required=True),
        Field("task_type", parse_text, required=True),
        Field("status", one_of("succeeded", "failed", "cancelled"), required=True),
        Field("started_at", parse_timestamp, required=True),
        Field("ai_model", parse_text),
        Field("finished_at", parse_timestamp),
        Field("input_tokens", parse_count),
        Field("output_tokens", parse_count),
        Field("cost", parse_task_cost),
        Field("customer_id", parse_text),
        Field("error", parse_text),
    ),
    key=("task_id",),
    # cost_micros is left out: a task service may write `cost` alone; `cost` says the same exactly.
    compared=("user_id", "task_type", "status", "started_at", "ai_model", "finished_at",
              "input_tokens", "output_tokens", "cost", "customer_id", "error"),
    check=_check_task,
    derived=("cost_micros",),
)

COSTS = ImportFormat(
    kind="costs",
    table=costs,
    fields=(
        Field("date", parse_date, required=True),
        Field("category", one_of("marketing", "infrastructure", "ai", "other"), required=True),
        Field("channel", parse_text, default=""),
        Field("amount", parse_amount_micros, required=True, column="amount_micros"),
        Field("currency", parse_currency, required=True),
    ),
    key=("date", "category", "channel"),
    compared=("amount_micros", "currency"),
)

FX = ImportFormat(
    kind="fx",
    table=fx_rates,
    fields=(
        Field("date", parse_date, required=True),
        Field("currency", parse_currency, required=True),
        Field("rate", parse_rate, required=True),
    ),
    key=("date", "currency"),
    compared=("rate",),
)

MODEL_PRICES = ImportFormat(
    kind="model-prices",
    table=model_prices,
    fields=(
        Field("ai_model", parse_text, required=True),
        Field("effective_from", parse_timestamp_or_date, required=True),
        Field("input_per_million", parse_price_micros, required=True, column="input_per_million_micros"),
        Field("output_per_million", parse_price_micros, required=True, column="output_per_million_micros"),
    ),
    key=("ai_model", "effective_from"),
    compared=("input_per_million_micros", "output_per_million_micros"),
)

CUSTOMERS = ImportFormat(
    kind="customers",
    table=customer_links,
    fields=(
        Field("user_id", parse_text, required=True),
        Field("customer_id", parse_customer_id, required=True),
    ),
    key=("user_id",),
    compared=("customer_id",),
)

FORMATS: dict[str, ImportFormat] = {f.kind: f for f in (EVENTS, TASKS, COSTS, FX, MODEL_PRICES, CUSTOMERS)}
