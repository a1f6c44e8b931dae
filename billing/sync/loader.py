"""Loads a billing batch (docs/billing-sync.md, contract version 1) with bulk upserts.

Each chunk of records is one transaction: parsed and validated, references resolved with one query per
parent entity, then written with one upsert that touches only rows whose `changed_at` is newer. That makes a
load idempotent, lets a killed load be repeated safely, and leaves unchanged rows alone. A record that breaks
the contract is rejected with its file and line; the good records around it are loaded.

On PostgreSQL a chunk goes first through the set-based loader (billing/sync/setbased.py), which parses and
writes in SQL what it can and hands the rest back to the Python path here.
"""

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from billing import signals, versions
from billing.models import Invoice, InvoiceLine, PaymentAllocation
from billing.sync import bulk
from billing.sync.contract import REFUSED, Entity, Row, read_manifest
from billing.sync.entities import ENTITIES
from billing.sync.parsers import RecordError, a_datetime, text
from billing.sync.setbased import ChunkResult, SetBasedChunks

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
MAX_REPORTED_ERRORS = 1000
ANALYZE_AFTER_ROWS = 100_000  # a file that wrote this many rows has its tables analysed
ANALYZE_EVERY_ROWS = 2_000_000  # ... and again every this many while it loads
CHILD_TABLES = {"invoices": InvoiceLine, "payments": PaymentAllocation}

Lines = list[tuple[int, str]]  # (line number, text) of a chunk


@dataclass
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0


@dataclass
class LoadResult:
    cursor: str
    full: bool
    counts: dict[str, Counts]
    errors: list[dict[str, Any]]

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())


_MISSING = object()
_DEFERRED = object()


class Loader:
    """Loads one batch folder. Not thread-safe; one per run."""

    def __init__(
        self, folder: Path, *, batch_size: int | None = None, set_based: bool = True, workers: int | None = None
    ):
        self.folder = Path(folder)
        self.set_based = set_based  # PostgreSQL: parse and write in SQL what it can (billing/sync/setbased.py)
        self.workers = workers or getattr(settings, "IBOK_SYNC_WORKERS", 2)
        self.batch_size = batch_size or getattr(settings, "IBOK_SYNC_BATCH_SIZE", BATCH_SIZE)
        self.counts: dict[str, Counts] = {}
        self.errors: list[dict[str, Any]] = []
        self.deletions: dict[str, list[tuple[int, str, datetime]]] = {}
        self.postgres = bulk.on_postgres()

    # --- the run ---------------------------------------------------------------------------------------

    def load(self) -> LoadResult:
        manifest = read_manifest(self.folder)
        for entity in ENTITIES:
            path = self.folder / f"{entity.name}.jsonl"
            self.counts[entity.name] = Counts()
            if path.exists():
                self.load_file(entity, path)
                self.analyze_if_grown(entity)
        for entity in reversed(ENTITIES):
            self.apply_deletions(entity)
        return LoadResult(
            cursor=str(manifest.get("cursor", "")),
            full=bool(manifest.get("full", False)),
            counts=self.counts,
            errors=self.errors,
        )

    def reject(self, entity: Entity, line: int, message: str, record_id: str | None = None) -> None:
        self.counts[entity.name].rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"file": f"{entity.name}.jsonl", "line": line, "id": record_id, "error": message})
        logger.warning("rejected %s.jsonl line %s (%s): %s", entity.name, line, record_id, message)

    def load_file(self, entity: Entity, path: Path) -> None:
        chunks = self._chunks(entity, path)
        if not (self.postgres and self.set_based and entity.set_based):
            for chunk in chunks:
                self._load_lines(entity, chunk)
            return
        fast = SetBasedChunks(entity)
        # Chunks load on several connections at once, unless the caller holds a transaction open (a test):
        # other connections could not see what it holds.
        if self.workers > 1 and not connection.in_atomic_block:
            results = fast.load_parallel(chunks, workers=self.workers)
        else:
            results = (fast.load_chunk(chunk) for chunk in chunks)
        counts, analysed_at = self.counts[entity.name], 0
        for result in results:
            if left := self._count_set_based(entity, result):
                self._load_lines(entity, left)
            if counts.created + counts.updated - analysed_at >= ANALYZE_EVERY_ROWS:
                # A large first load: keep the planner's statistics of the growing tables current.
                analysed_at = counts.created + counts.updated
                self.analyze(entity)

    def _count_set_based(self, entity: Entity, result: ChunkResult) -> Lines:
        """Count a chunk the set-based loader committed into the run; return its lines left for Python."""
        counts = self.counts[entity.name]
        counts.created += result.created
        counts.updated += result.updated
        counts.unchanged += result.unchanged
        self.deletions.setdefault(entity.name, []).extend(result.deletions)
        return result.left

    def analyze_if_grown(self, entity: Entity) -> None:
        """After a large load, refresh the planner's statistics of what it wrote (autovacuum may lag, or be off):
        the next file's lookups and the portal's pages are planned on them."""
        counts = self.counts[entity.name]
        if self.postgres and counts.created + counts.updated >= ANALYZE_AFTER_ROWS:
            self.analyze(entity)

    def analyze(self, entity: Entity) -> None:
        tables = [entity.model._meta.db_table]
        tables += [CHILD_TABLES[entity.name]._meta.db_table] if entity.name in CHILD_TABLES else []
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {bulk.quote(table)}")

    def _chunks(self, entity: Entity, path: Path) -> Iterator[Lines]:
        """(line number, text) of the non-blank lines, batch_size at a time: constant memory for any file."""
        chunk: Lines = []
        counts = self.counts[entity.name]
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                counts.read += 1
                chunk.append((number, line.rstrip("\r\n")))
                if len(chunk) >= self.batch_size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    # --- the Python path: parse and check each record, resolve references, write -------------------------

    def _load_lines(self, entity: Entity, lines: Lines) -> None:
        rows = [row for number, line in lines if (row := self._parse(entity, number, line)) is not None]
        rows = self._resolve_refs(entity, _latest_per_id(rows))
        if entity.check_refs:
            for row, message in entity.check_refs(rows):
                self.reject(entity, row.line, message, row.external_id)
                rows.remove(row)
        if entity.before_write:
            entity.before_write(self.folder, rows)
        self._write(entity, rows)

    def _parse(self, entity: Entity, number: int, line: str) -> Row | None:
        record = self._decode(entity, number, line)
        if record is None:
            return None
        record_id = record.get("id")
        try:
            external_id = text(64)(record_id)
            changed_at = a_datetime(record.get("changed_at"))
        except RecordError as exc:
            self.reject(entity, number, f"id/changed_at: {exc}", record_id if isinstance(record_id, str) else None)
            return None
        if record.get("deleted") is True:
            self.deletions.setdefault(entity.name, []).append((number, external_id, changed_at))
            return None
        try:
            row = Row(
                number, external_id, changed_at, _parse_values(entity, record), record, _parse_refs(entity, record)
            )
            if entity.check:
                entity.check(row)
        except RecordError as exc:
            self.reject(entity, number, str(exc), external_id)
            return None
        return row

    def _decode(self, entity: Entity, number: int, line: str) -> dict[str, Any] | None:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            self.reject(entity, number, f"not valid JSON: {exc.msg}")
            return None
        if not isinstance(record, dict):
            self.reject(entity, number, "not a JSON object")
            return None
        return record

    def _resolve_refs(self, entity: Entity, rows: list[Row]) -> list[Row]:
        own_ids = {row.external_id for row in rows}
        for ref in entity.refs:
            targets = bulk.resolve(ref.model, {row.refs[ref.key] for row in rows if row.refs.get(ref.key)})
            for row in rows:
                wanted = row.refs.get(ref.key)
                if wanted is None:
                    row.values[ref.attname] = None
                elif wanted in targets:
                    row.values[ref.attname] = targets[wanted]
                elif ref.model is entity.model and wanted in own_ids:
                    row.values[ref.attname] = _DEFERRED
                else:
                    row.values[ref.attname] = _MISSING
        good = []
        for row in rows:
            missing = [ref.key for ref in entity.refs if row.values.get(ref.attname) is _MISSING]
            if missing:
                self.reject(entity, row.line, f"{missing[0]}: unknown id {row.refs[missing[0]]}", row.external_id)
            else:
                good.append(row)
        return good

    # --- writing ---------------------------------------------------------------------------------------

    def _write(self, entity: Entity, rows: list[Row]) -> None:
        # A row pointing at another row of the same chunk (a correction of an invoice above it) waits for it.
        first = [row for row in rows if _DEFERRED not in row.values.values()]
        later = [row for row in rows if _DEFERRED in row.values.values()]
        if first:
            self._write_part(entity, first)
        if later:
            self._write_part(entity, self._resolve_refs(entity, later))

    def _write_part(self, entity: Entity, rows: list[Row]) -> None:
        try:
            with transaction.atomic():
                if self.postgres:
                    # Safe to lose on a server crash: WAL order drops the run's own success record with it, and
                    # the next sync loads the chunk again. Saves an fsync per chunk.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                        cursor.execute("SET LOCAL jit TO off")  # compiling costs more than it saves here
                self._write_rows(entity, rows)
        except REFUSED:
            # One bad row spoils the bulk statement: write one by one to find and reject it.
            for row in rows:
                try:
                    with transaction.atomic():
                        self._write_rows(entity, [row])
                except REFUSED as exc:
                    self.reject(entity, row.line, f"refused by the database: {_first_line(exc)}", row.external_id)

    def _write_rows(self, entity: Entity, rows: list[Row]) -> None:
        model = entity.model
        existing = set(bulk.resolve(model, (row.external_id for row in rows)))
        attnames = ["external_id", "source_updated_at", *(c.attname for c in entity.columns)]
        attnames += [ref.attname for ref in entity.refs]
        values = [(row.external_id, row.changed_at, *(row.values[a] for a in attnames[2:])) for row in rows]
        written = bulk.upsert(model, attnames, values)
        versions.rows_changed(model, written.values())
        if entity.after_write:
            entity.after_write(rows, written, [pk for ext, pk in written.items() if ext in existing])
        # Counted only once everything of the chunk is written: a rolled-back chunk counts nothing.
        counts = self.counts[entity.name]
        created = [ext for ext in written if ext not in existing]
        counts.created += len(created)
        counts.updated += len(written) - len(created)
        counts.unchanged += len(rows) - len(written)
        if model is Invoice and created:
            # Announced per chunk, inside its transaction (receivers queue their work with it): a first load of
            # millions of invoices never sits in memory.
            signals.invoices_imported.send(sender=Invoice, invoice_ids=[written[ext] for ext in created])

    def apply_deletions(self, entity: Entity) -> None:
        wanted = self.deletions.get(entity.name, [])
        for start in range(0, len(wanted), self.batch_size):
            part = wanted[start : start + self.batch_size]
            stored = dict(
                entity.model.objects.filter(external_id__in=[ext for _, ext, _ in part]).values_list(
                    "external_id", "source_updated_at"
                )
            )
            doomed = [ext for _, ext, changed in part if ext in stored and stored[ext] <= changed]
            if doomed:
                with transaction.atomic():
                    doomed_rows = entity.model.objects.filter(external_id__in=doomed)
                    versions.rows_changed(entity.model, doomed_rows.values("pk"))
                    doomed_rows.delete()
            self.counts[entity.name].deleted += len(doomed)


def _parse_values(entity: Entity, record: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in entity.columns:
        raw = _lookup(record, column.key)
        if raw is _MISSING:
            if column.required:
                raise RecordError(f"{column.key}: is required")
            raw = None
        try:
            values[column.attname] = column.parse(raw)
        except RecordError as exc:
            raise RecordError(f"{column.key}: {exc}") from None
    return values


def _parse_refs(entity: Entity, record: dict[str, Any]) -> dict[str, str | None]:
    refs: dict[str, str | None] = {}
    for ref in entity.refs:
        raw = record.get(ref.key)
        if raw in (None, ""):
            if ref.required:
                raise RecordError(f"{ref.key}: is required")
            refs[ref.key] = None
        elif not isinstance(raw, str):
            raise RecordError(f"{ref.key}: must be a string id")
        else:
            refs[ref.key] = raw
    return refs


def _latest_per_id(rows: list[Row]) -> list[Row]:
    """The same id twice in one chunk: the later change wins (an upsert may touch a row once)."""
    latest: dict[str, Row] = {}
    for row in rows:
        current = latest.get(row.external_id)
        if current is None or row.changed_at >= current.changed_at:
            latest[row.external_id] = row
    return list(latest.values())


def _lookup(record: dict[str, Any], key: str) -> Any:
    value: Any = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
