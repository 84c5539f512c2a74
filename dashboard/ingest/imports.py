"""``roi import``: validated, all-or-nothing imports of CSV and Parquet files.

An import reads the file twice and never holds it in memory. The first pass, which only
reads the store, checks every row (cells, required columns, duplicate keys inside the
file) and compares each good row with the stored row of the same key, batch by batch. If
anything is wrong the file is refused with every bad row named (CSV: the physical line where
the row starts, header = line 1; Parquet: the row index, from 0) and nothing at all is
written. Otherwise the second pass writes the new rows (and, with ``replace``, the changed
ones) in one transaction through :func:`write_batch`, records an ``import_runs`` row and
bumps the data version. A file whose rows are all already present changes nothing, not even
the data version.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import sys
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from dashboard.ingest.import_formats import FORMATS, TASKS, ImportFormat, canonical_json
from dashboard.ingest.writer import insert_rows
from dashboard.money import MICROS_PER_UNIT, divide_half_even, round_half_even
from dashboard.schema import identity_links, import_runs, model_prices
from dashboard.store import bump_data_version
from dashboard.types import UTC, to_utc

log = logging.getLogger(__name__)

BATCH_ROWS = 5_000
REPORT_LIMIT = 100
PARQUET_MAGIC = b"PAR1"
MAX_TASK_COST_MICROS = 10**18 - 1  # what execution_tasks.cost, NUMERIC(18, 6), can hold

# Per-row outcome of the checking pass, one byte per row of the file.
_BAD, _NEW, _PRESENT, _DIFFERS = 0, 1, 2, 3
_NO_KEY = -(2**63)  # hash slot of a row whose key could not be read


# --- Outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused; ``where`` is a line number (CSV), a row index (Parquet) or None."""

    where: int | None
    message: str


class ImportRefused(Exception):
    """The file was refused as a whole; :meth:`report` says why, row by row. Nothing was written."""

    def __init__(
        self,
        kind: str,
        file_name: str,
        *,
        unit: str,
        problems: Sequence[Problem] = (),
        problem_count: int | None = None,
        conflicts: Sequence[Problem] = (),
        conflict_count: int | None = None,
    ) -> None:
        self.kind = kind
        self.file_name = file_name
        self.unit = unit  # "line" (CSV) or "row" (Parquet)
        self.problems = sorted(problems, key=lambda p: (p.where is not None, p.where or 0))
        self.problem_count = len(self.problems) if problem_count is None else problem_count
        self.conflicts = sorted(conflicts, key=lambda p: p.where or 0)
        self.conflict_count = len(self.conflicts) if conflict_count is None else conflict_count
        super().__init__(f"{kind} import of {file_name} refused: "
                         f"{self.problem_count} problem(s), {self.conflict_count} conflicting row(s)")

    def _where(self, problem: Problem) -> str:
        if problem.where is None:
            return "file"
        return f"{self.unit} {problem.where}"

    def _listing(self, items: Sequence[Problem], total: int) -> list[str]:
        lines = [f"  {self._where(p)}: {p.message}" for p in items[:REPORT_LIMIT]]
        if total > len(lines):
            lines.append(f"  … and {total - len(lines):,} more")
        return lines

    def report(self) -> str:
        """A plain, complete account of why the file was refused, one bad row per line (capped)."""
        numbering = ("lines are numbered from the header, line 1" if self.unit == "line"
                     else "rows are numbered from 0")
        out = [f"roi import {self.kind}: refused {self.file_name}; nothing was imported, the store is unchanged."]
        if self.problem_count:
            noun = "problem" if self.problem_count == 1 else "problems"
            out.append(f"{self.problem_count:,} {noun} ({numbering}):")
            out += self._listing(self.problems, self.problem_count)
        if self.conflict_count:
            noun = "row has a key" if self.conflict_count == 1 else "rows have a key"
            out.append(f"{self.conflict_count:,} {noun} already in the store with different content "
                       "(run again with --replace to update them):")
            out += self._listing(self.conflicts, self.conflict_count)
        return "\n".join(out)


@dataclass(frozen=True)
class ImportResult:
    """What an accepted import did."""

    kind: str
    file_name: str
    rows_in_file: int
    new: int
    present: int
    replaced: int

    @property
    def rows_written(self) -> int:
        return self.new + self.replaced

    def describe(self) -> str:
        rows = "row" if self.rows_in_file == 1 else "rows"
        return (f"{self.kind}: {self.rows_in_file:,} {rows} in file, {self.new:,} new, "
                f"{self.present:,} already present, {self.replaced:,} replaced")


# --- Reading files -----------------------------------------------------------------------


@dataclass(frozen=True)
class _RawRow:
    ordinal: int  # 0-based position among the file's data rows
    where: int  # CSV: physical line where the row starts; Parquet: row index
    cells: dict[str, Any] | None
    problem: str | None = None


class _Broken(Exception):
    """The file cannot be read any further (not CSV, bad encoding, corrupt Parquet)."""

    def __init__(self, where: int | None, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == PARQUET_MAGIC


def _header_names(names: Sequence[str]) -> list[str]:
    return [str(n).strip().lower() for n in names]


@contextmanager
def _csv_rows(path: Path) -> Iterator[tuple[list[str], Iterator[_RawRow]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            first = next(reader)
        except StopIteration:
            raise _Broken(None, "the file is empty; expected a header line with the column names") from None
        except csv.Error as exc:
            raise _Broken(1, f"the header is not valid CSV ({exc})") from None
        except UnicodeDecodeError:
            raise _Broken(1, "the file is not UTF-8 text (is it a CSV or Parquet file?)") from None
        if not first or all(not f.strip() for f in first):
            raise _Broken(1, "line 1 is empty; expected a header line with the column names")
        header = _header_names(first)

        def rows() -> Iterator[_RawRow]:
            ordinal = 0
            last = reader.line_num
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise _Broken(last + 1, f"not valid CSV ({exc}); rows after this were not checked") from None
                except UnicodeDecodeError:
                    raise _Broken(last + 1, "not UTF-8 text near this line; rows after it were not checked") from None
                start, last = last + 1, reader.line_num
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    yield _RawRow(ordinal, start, None,
                                  f"has {len(fields)} fields, the header has {len(header)}")
                else:
                    yield _RawRow(ordinal, start, dict(zip(header, fields)))
                ordinal += 1

        yield header, rows()


@contextmanager
def _parquet_rows(path: Path) -> Iterator[tuple[list[str], Iterator[_RawRow]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise _Broken(None, f"not a readable Parquet file ({exc})") from None
    # pandas stores a non-default index as extra columns; it is not data.
    names = [n for n in pf.schema_arrow.names if not re.fullmatch(r"__index_level_\d+__", n)]
    header = _header_names(names)

    def rows() -> Iterator[_RawRow]:
        ordinal = 0
        try:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=names):
                columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                for values in zip(*columns):
                    yield _RawRow(ordinal, ordinal, dict(zip(header, values)))
                    ordinal += 1
        except (pa.ArrowException, OSError, ValueError, OverflowError) as exc:
            raise _Broken(ordinal, f"cannot read the Parquet data ({exc}); rows after this were not checked") from None

    try:
        yield header, rows()
    finally:
        pf.close()


@contextmanager
def _open_rows(path: Path, parquet: bool) -> Iterator[tuple[list[str], Iterator[_RawRow]]]:
    opener = _parquet_rows if parquet else _csv_rows
    with opener(path) as opened:
        yield opened


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- Writing -----------------------------------------------------------------------------


def _in_chunks(values: Sequence[Any], size: int = BATCH_ROWS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def complete_task_costs(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Fill ``cost``/``cost_micros`` of task rows in place so that both say the same exact figure.

    A given ``cost`` gives ``cost_micros``; a given ``cost_micros`` gives ``cost``; when both are
    absent the cost is derived from the tokens and the model price with the latest
    ``effective_from`` <= ``started_at`` for the task's ``ai_model`` (a missing token count
    counts as 0). With no model, no price or no token count at all, both stay null.
    """
    pending: list[dict[str, Any]] = []
    for row in rows:
        cost, micros = row.get("cost"), row.get("cost_micros")
        if micros is None and cost is not None:
            row["cost_micros"] = round_half_even(Decimal(cost) * MICROS_PER_UNIT)
        elif micros is not None and cost is None:
            row["cost"] = Decimal(micros).scaleb(-6)
        elif micros is None and cost is None:
            row["cost_micros"] = None
            if row.get("ai_model") and (row.get("input_tokens") is not None or row.get("output_tokens") is not None):
                pending.append(row)
    if not pending:
        return
    models = sorted({row["ai_model"] for row in pending})
    prices: dict[str, list[tuple[datetime, int, int]]] = {}
    for chunk in _in_chunks(models):
        query = (
            sa.select(model_prices.c.ai_model, model_prices.c.effective_from,
                      model_prices.c.input_per_million_micros, model_prices.c.output_per_million_micros)
            .where(model_prices.c.ai_model.in_(chunk))
            .order_by(model_prices.c.ai_model, model_prices.c.effective_from)
        )
        for model, since, per_in, per_out in conn.execute(query):
            prices.setdefault(model, []).append((since, per_in, per_out))
    for row in pending:
        started = to_utc(row["started_at"])
        current = None
        for since, per_in, per_out in prices.get(row["ai_model"], ()):
            if since > started:
                break
            current = (per_in, per_out)
        if current is None:
            continue
        total = (row.get("input_tokens") or 0) * current[0] + (row.get("output_tokens") or 0) * current[1]
        micros = divide_half_even(total, MICROS_PER_UNIT)
        if micros > MAX_TASK_COST_MICROS:
            log.warning("task %s: derived cost of %s micros does not fit the store; left null",
                        row.get("task_id"), micros)
            continue
        row["cost_micros"] = micros
        row["cost"] = Decimal(micros).scaleb(-6)


def _link_identities(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Link anonymous ids to users from events that carry both; the earliest link (by ts) wins."""
    best: dict[str, tuple[datetime, str]] = {}
    for row in rows:
        anonymous, user = row.get("anonymous_id"), row.get("user_id")
        if anonymous and user:
            candidate = (to_utc(row["ts"]), user)
            if anonymous not in best or candidate < best[anonymous]:
                best[anonymous] = candidate
    if not best:
        return
    stored: dict[str, tuple[datetime, str]] = {}
    for chunk in _in_chunks(sorted(best)):
        query = sa.select(identity_links.c.anonymous_id, identity_links.c.linked_at, identity_links.c.user_id).where(
            identity_links.c.anonymous_id.in_(chunk))
        for anonymous, linked_at, user in conn.execute(query):
            stored[anonymous] = (linked_at, user)
    links = [
        {"anonymous_id": anonymous, "user_id": user, "linked_at": ts}
        for anonymous, (ts, user) in best.items()
        if anonymous not in stored or (ts, user) < stored[anonymous]
    ]
    insert_rows(conn, identity_links, links, on_conflict="update")


def _store_rows(fmt: ImportFormat, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    defaults = {f.store_column: f.default for f in fmt.fields}
    columns = fmt.store_columns
    out = []
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"{fmt.kind} rows have no column(s) {', '.join(sorted(unknown))}")
        full = {}
        for column in columns:
            value = row.get(column)
            full[column] = defaults.get(column) if value is None else value
        out.append(full)
    return out


def write_batch(conn: Connection, kind: str, rows: list[dict], *, replace: bool = False) -> None:
    """Write already-validated rows in store-column form.

    E.g. events: event_id, event, ts (aware datetime), user_id, anonymous_id, channel, country,
    device, consent (bool), properties (canonical JSON text or None); tasks: the
    execution_tasks columns with cost as Decimal or None; cost_micros is derived here when
    missing. Maintains identity_links for events and derives task cost_micros from model
    prices. No conflict check: existing keys are skipped, or updated when replace=True.
    Caller owns the transaction (and bumps the data version); keys must be unique within
    ``rows``.
    """
    fmt = FORMATS[kind]
    if not rows:
        return
    full = _store_rows(fmt, rows)
    if fmt is TASKS:
        complete_task_costs(conn, full)
    insert_rows(conn, fmt.table, full, on_conflict="update" if replace else "nothing")
    if kind == "events":
        _link_identities(conn, full)


# --- Checking ----------------------------------------------------------------------------


def _comparable(column: str, value: Any) -> Any:
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        # SQLite keeps execution_tasks.cost as a REAL: compare at the column's six places.
        return value.quantize(Decimal("0.000001")) if column == "cost" else value.normalize()
    if isinstance(value, datetime):
        return to_utc(value) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value


def _differences(fmt: ImportFormat, stored: dict[str, Any], row: dict[str, Any]) -> list[str]:
    changed = []
    for column in fmt.compared:
        old, new = stored[column], row[column]
        if column == "properties" and old is not None and new is not None and old != new:
            try:
                old = canonical_json(json.loads(old))
            except ValueError:
                pass
        if _comparable(column, old) != _comparable(column, new):
            changed.append(column)
    return changed


def _stored_by_key(conn: Connection, fmt: ImportFormat, keys: Sequence[tuple[Any, ...]]) -> dict[tuple, dict]:
    """Stored rows for these keys (looked up by the first key column, then matched exactly)."""
    wanted = set(keys)
    first = fmt.table.c[fmt.key[0]]
    values = sorted({k[0] for k in keys}, key=repr)
    found: dict[tuple, dict] = {}
    for chunk in _in_chunks(values):
        for record in conn.execute(sa.select(fmt.table).where(first.in_(chunk))).mappings():
            key = tuple(record[c] for c in fmt.key)
            if key in wanted:
                found[key] = dict(record)
    return found


class _Checker:
    """The first pass: every row checked, duplicates found, good rows compared with the store."""

    def __init__(self, fmt: ImportFormat, replace: bool) -> None:
        self.fmt = fmt
        self.replace = replace
        self.flags = bytearray()
        self.hashes = array("q")
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.conflicts: list[Problem] = []
        self.conflict_count = 0
        self.new = self.present = self.differs = 0
        self._batch: list[tuple[int, int, dict[str, Any]]] = []

    def problem(self, where: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < REPORT_LIMIT:
            self.problems.append(Problem(where, message))

    def add(self, conn: Connection, raw: _RawRow) -> None:
        self.flags.append(_BAD)
        self.hashes.append(_NO_KEY)
        if raw.problem is not None or raw.cells is None:
            self.problem(raw.where, raw.problem or "cannot be read")
            return
        row, reasons = self.fmt.parse_row(raw.cells)
        key = self.fmt.key_of(row)
        if key is not None:
            digest = hash(key)
            self.hashes[raw.ordinal] = digest if digest != _NO_KEY else _NO_KEY + 1
        if reasons:
            self.problem(raw.where, "; ".join(reasons))
            return
        self._batch.append((raw.ordinal, raw.where, row))
        if len(self._batch) >= BATCH_ROWS:
            self.flush(conn)

    def flush(self, conn: Connection) -> None:
        """Compare the pending good rows with the store (reads only)."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        rows = [row for _, _, row in batch]
        if self.fmt is TASKS:
            complete_task_costs(conn, rows)
        stored = _stored_by_key(conn, self.fmt, [self.fmt.key_of(r) for r in rows])
        for ordinal, where, row in batch:
            key = self.fmt.key_of(row)
            old = stored.get(key)
            if old is None:
                self.flags[ordinal] = _NEW
                self.new += 1
                continue
            changed = _differences(self.fmt, old, row)
            if not changed:
                self.flags[ordinal] = _PRESENT
                self.present += 1
                continue
            self.flags[ordinal] = _DIFFERS
            self.differs += 1
            if not self.replace:
                self.conflict_count += 1
                if len(self.conflicts) < REPORT_LIMIT:
                    self.conflicts.append(
                        Problem(where, f"{self.fmt.describe_key(key)} (differs in: {', '.join(changed)})"))

    def duplicate_groups(self) -> tuple[int, set[int]]:
        """How many keys occur more than once, and the rows of the first few of them (by hash)."""
        if not self.hashes:
            return 0, set()
        hashes = np.frombuffer(self.hashes, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, len(ordered)])
        groups = starts[(sizes > 1) & (ordered[starts] != _NO_KEY)]
        if not len(groups):
            return 0, set()
        # A stable sort puts each group's earliest row first: report the groups that start earliest.
        earliest = np.argsort(order[groups], kind="stable")[:REPORT_LIMIT]
        chosen = ordered[groups[earliest]]
        rows = np.flatnonzero(np.isin(hashes, chosen))
        return len(groups), set(rows.tolist())


def _list_places(unit: str, places: Sequence[int]) -> str:
    shown = [str(p) for p in places]
    if len(shown) > 2:
        return f"{unit}s {', '.join(shown[:-1])} and {shown[-1]}"
    return f"{unit}s {' and '.join(shown)}"


def _confirm_duplicates(fmt: ImportFormat, rows: Iterator[_RawRow], ordinals: set[int], unit: str) -> list[Problem]:
    """Re-read the rows that share a key hash and name every real duplicate key with all its places."""
    places: dict[tuple, list[int]] = {}
    for raw in rows:
        if raw.ordinal in ordinals and raw.cells is not None:
            key = fmt.key_of(fmt.parse_row(raw.cells)[0])
            if key is not None:
                places.setdefault(key, []).append(raw.where)
    return [
        Problem(found[0], f"duplicate key {fmt.describe_key(key)}: on {_list_places(unit, found)}")
        for key, found in places.items()
        if len(found) > 1
    ]


def _progress(progress: bool, desc: str, total: int | None = None) -> tqdm:
    return tqdm(total=total, desc=desc, unit=" rows", file=sys.stderr,
                disable=not progress, leave=False, dynamic_ncols=True)


# --- The import --------------------------------------------------------------------------


def import_file(
    engine: Engine,
    kind: str,
    path: str | os.PathLike[str],
    *,
    replace: bool = False,
    progress: bool = False,
) -> ImportResult:
    """Import a CSV or Parquet file of ``kind`` all or nothing; raise :class:`ImportRefused` if any row is bad.

    A row whose key is already stored with the same content is left alone; one with different
    content refuses the file unless ``replace`` is set, which updates it.
    """
    if kind not in FORMATS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(FORMATS)}")
    fmt = FORMATS[kind]
    source = Path(path)
    name = source.name or str(source)

    def refuse(unit: str, where: int | None, message: str) -> ImportRefused:
        return ImportRefused(kind, name, unit=unit, problems=[Problem(where, message)])

    try:
        parquet = _is_parquet(source)
        stat = source.stat()
    except FileNotFoundError:
        raise refuse("line", None, f"{source} does not exist") from None
    except IsADirectoryError:
        raise refuse("line", None, f"{source} is a directory, not a file") from None
    except OSError as exc:
        raise refuse("line", None, f"cannot read {source}: {exc.strerror or exc}") from None
    unit = "row" if parquet else "line"

    checker = _Checker(fmt, replace)
    try:
        with _open_rows(source, parquet) as (header, rows):
            header_problems = fmt.header_problems(header)
            if header_problems:
                raise ImportRefused(kind, name, unit=unit,
                                    problems=[Problem(1 if unit == "line" else None, p) for p in header_problems])
            with engine.connect() as conn, _progress(progress, f"checking {name}") as bar:
                for raw in rows:
                    checker.add(conn, raw)
                    if raw.ordinal % BATCH_ROWS == BATCH_ROWS - 1:
                        bar.update(BATCH_ROWS)
                checker.flush(conn)
                bar.update(len(checker.flags) % BATCH_ROWS)
        duplicate_count, suspects = checker.duplicate_groups()
        duplicates: list[Problem] = []
        if duplicate_count:
            with _open_rows(source, parquet) as (_, rows):
                duplicates = _confirm_duplicates(fmt, rows, suspects, unit)
            duplicate_count += len(duplicates) - min(duplicate_count, REPORT_LIMIT)
    except _Broken as broken:
        checker.problem(broken.where, broken.message)
        raise ImportRefused(kind, name, unit=unit, problems=checker.problems,
                            problem_count=checker.problem_count) from None

    rows_in_file = len(checker.flags)
    if checker.problem_count or duplicate_count or checker.conflict_count:
        problems = sorted(checker.problems + duplicates, key=lambda p: p.where or 0)[:REPORT_LIMIT]
        refused = ImportRefused(kind, name, unit=unit, problems=problems,
                                problem_count=checker.problem_count + duplicate_count,
                                conflicts=checker.conflicts, conflict_count=checker.conflict_count)
        log.info("%s", refused)
        raise refused

    replaced = checker.differs if replace else 0
    result = ImportResult(kind, name, rows_in_file, checker.new, checker.present, replaced)
    if result.rows_written == 0:
        log.info("%s: nothing new in %s", kind, name)
        return result

    if source.stat().st_mtime_ns != stat.st_mtime_ns or source.stat().st_size != stat.st_size:
        raise refuse(unit, None, "the file changed while it was being imported; run the import again")
    try:
        written = _write(engine, fmt, source, parquet, checker.flags, file_name=name, replace=replace,
                         progress=progress, total=result.rows_written,
                         refuse=lambda where, message: refuse(unit, where, message))
    except _Broken as broken:
        raise refuse(unit, broken.where, f"the file changed while it was being imported ({broken.message})") from None
    log.info("%s (%s rows written)", result.describe(), written)
    return result


def _write(
    engine: Engine,
    fmt: ImportFormat,
    source: Path,
    parquet: bool,
    flags: bytearray,
    *,
    file_name: str,
    replace: bool,
    progress: bool,
    total: int,
    refuse: Callable[[int | None, str], ImportRefused],
) -> int:
    """The second pass: write the rows the first pass found new (or changed, with replace) in one transaction."""
    kind, rows_in_file = fmt.kind, len(flags)
    wanted = (_NEW, _DIFFERS) if replace else (_NEW,)
    written = 0
    with engine.begin() as conn, _progress(progress, f"importing {file_name}", total=total) as bar:
        with _open_rows(source, parquet) as (_, rows):
            batch: list[dict[str, Any]] = []
            for raw in rows:
                if raw.ordinal >= rows_in_file:
                    raise refuse(raw.where, "the file changed while it was being imported")
                if flags[raw.ordinal] not in wanted:
                    continue
                row, reasons = fmt.parse_row(raw.cells or {})
                if reasons or raw.cells is None:
                    raise refuse(raw.where, "the file changed while it was being imported")
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    write_batch(conn, kind, batch, replace=replace)
                    written += len(batch)
                    bar.update(len(batch))
                    batch = []
            write_batch(conn, kind, batch, replace=replace)
            written += len(batch)
            bar.update(len(batch))
        if written != total:
            raise refuse(None, "the file changed while it was being imported; run the import again")
        conn.execute(import_runs.insert().values(
            kind=kind, file_name=file_name, sha256=_file_sha256(source), rows_in_file=rows_in_file,
            rows_written=written, imported_at=datetime.now(UTC),
        ))
        bump_data_version(conn)
    return written
