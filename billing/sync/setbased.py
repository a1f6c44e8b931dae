"""The PostgreSQL fast path of the loader (billing/sync/loader.py): a chunk parsed, checked and written in SQL.

A chunk of raw JSON lines is copied into a staging table (`jsonb`: PostgreSQL parses it), then one statement
checks every record with the SQL forms of the contract's parsers (billing/sync/parsers.py) and resolves its
references by index lookups, and one upsert writes the records that passed (`ON CONFLICT … WHERE` the change
is newer, as the Python path does), followed by their children (invoice lines, payment allocations). Nothing
is parsed in Python.

The SQL checks are a conservative subset of the Python rules. Whatever fails them (a malformed record, a
reference to a row of the same chunk, an id that appears twice in the chunk, a PDF to attach) is handed back
to the Python path, which loads it or rejects it with its line and reason; a chunk whose JSON PostgreSQL
cannot read, or whose write the database refuses, goes back whole. So the result, the counts and the reported
errors are those of the Python path (tests/billing/test_setbased.py compares the two).
"""

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from psycopg.errors import DeadlockDetected, SerializationFailure

from billing import signals, versions
from billing.models import Invoice
from billing.sync.contract import REFUSED, STAGE, WRITTEN, Entity, SqlTwin
from billing.sync.parsers import Json, a_datetime, sql_null, sql_strip, text


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def parse_select(entity: Entity, twin: SqlTwin, columns: str) -> str:
    """The SELECT that parses and checks every staged record of a chunk of `entity`.

    Levels, each computed once per record (OFFSET 0 keeps PostgreSQL from inlining one into the next, which
    would repeat its expressions): 0. each value taken out of the record once, references resolved by index
    lookups, aggregates of the children joined; 1. does each value pass its check; 2. the typed values, where
    they passed; 3. does the record pass: every value and reference, the entity's own check, and its id
    appears once in the chunk.
    """
    level0 = [
        "s._line",
        "s._doc",
        "d._line IS NULL AS _single",
        "coalesce(s._doc->'deleted' = 'true'::jsonb, false) AS _deleted",
        *twin.join_columns,
    ]
    level1 = ["_line", "_doc", "_deleted", "_single", *twin.join_columns]
    level2 = ["_line", "_doc", "_deleted", *twin.join_columns]
    _add_values(entity, level0, level1, level2)
    found = _add_refs(entity, level0, level1, level2)
    record_ok = " AND ".join(["_values_ok", *found, twin.check])
    # The same id twice in the chunk (as Python strips it): Python picks the one that counts.
    id_key = sql_strip("_doc->>'id'")
    duplicates = f"SELECT {id_key} AS id, min(_line) AS _line FROM {STAGE} GROUP BY 1 HAVING count(*) > 1"
    return (
        f"SELECT _line, coalesce(_head_ok AND (_deleted OR ({record_ok})), false), _deleted, external_id, "
        f"changed_at, {columns} "
        f"FROM (SELECT {', '.join(level2)} FROM (SELECT {', '.join(level1)} FROM ("
        f"SELECT {', '.join(level0)} FROM {STAGE} s "
        f"LEFT JOIN ({duplicates}) d ON d.id = {id_key.replace('_doc', 's._doc')} "
        f"{twin.join} "
        "OFFSET 0) x0 OFFSET 0) x1 OFFSET 0) x2"
    )


def _add_values(entity: Entity, level0: list[str], level1: list[str], level2: list[str]) -> None:
    """The record's id, change time and columns: taken out, checked, typed."""
    model = entity.model
    values: list[tuple[Json, Any, Any, bool]] = [
        (Json.at("s._doc", "id"), text(64), None, True),
        (Json.at("s._doc", "changed_at"), a_datetime, None, True),
        *((Json.at("s._doc", c.key), c.parse, model._meta.get_field(c.attname), c.required) for c in entity.columns),
    ]
    names = ["external_id", "changed_at", *(q(c.attname) for c in entity.columns)]
    for i, (value, parse, model_field, required) in enumerate(values):
        level0 += [f"{value.j} AS _j{i}", f"{value.s} AS _s{i}"]
        check, typed = parse.sql(Json(f"_j{i}", f"_s{i}"), model_field)
        if required:
            check = f"_j{i} IS NOT NULL AND {check}"
        level1 += [f"_j{i}", f"_s{i}", f"coalesce({check}, false) AS _ok{i}"]
        level2.append(f"CASE WHEN _ok{i} THEN {typed} END AS {names[i]}")
    level2.append("_ok0 AND _ok1 AND jsonb_typeof(_doc) = 'object' AND _single AS _head_ok")
    level2.append(" AND ".join(f"_ok{i}" for i in range(2, len(values))) + " AS _values_ok")


def _add_refs(entity: Entity, level0: list[str], level1: list[str], level2: list[str]) -> list[str]:
    """The references, resolved by index lookups; returns the condition each adds to the record's check."""
    found = []
    for ref in entity.refs:
        parent = q(ref.model._meta.db_table)
        level0.append(f"(SELECT id FROM {parent} WHERE external_id = s._doc->>'{ref.key}') AS {q(ref.attname)}")
        level1.append(q(ref.attname))
        level2.append(q(ref.attname))
        value = Json.at("_doc", ref.key)
        present = f"(jsonb_typeof({value.j}) = 'string' AND {q(ref.attname)} IS NOT NULL)"
        found.append(present if ref.required else f"({sql_null(value)} OR {present})")
    return found


class SetBasedChunks:
    """Loads chunks of one entity file; built once per file (the SQL is generated from the entity spec)."""

    def __init__(self, entity: Entity):
        self.entity = entity
        model = entity.model
        twin = entity.sql() if entity.sql else SqlTwin("true")
        self.table = q(model._meta.db_table)
        self.parsed = f"_ibok_parsed_{model._meta.model_name}"
        attnames = [column.attname for column in entity.columns] + [ref.attname for ref in entity.refs]
        columns = ", ".join(q(a) for a in attnames)
        self.parse = (
            f"INSERT INTO {self.parsed} (_line, _ok, _deleted, external_id, changed_at, {columns}) "
            f"{parse_select(entity, twin, columns)}"
        )
        self.create_parsed = (
            f"CREATE TEMP TABLE IF NOT EXISTS {self.parsed} AS SELECT 0 AS _line, true AS _ok, true AS _deleted, "
            f"external_id, source_updated_at AS changed_at, {columns} "
            f"FROM {self.table} WITH NO DATA"
        )
        updates = ", ".join(f"{q(a)} = excluded.{q(a)}" for a in ["source_updated_at", *attnames])
        self.upsert = (
            f"WITH up AS (INSERT INTO {self.table} (external_id, source_updated_at, {columns}) "
            f"SELECT external_id, changed_at, {columns} FROM {self.parsed} WHERE _ok AND NOT _deleted "
            f"ON CONFLICT (external_id) DO UPDATE SET {updates} "
            f"WHERE {self.table}.source_updated_at < excluded.source_updated_at "
            "RETURNING external_id, id, xmax = 0 AS created) "
            f"INSERT INTO {WRITTEN} (external_id, id, created) SELECT external_id, id, created FROM up"
        )
        self.children = twin.after_write(self.parsed) if twin.after_write else []

    def load_chunk(self, lines: Sequence[tuple[int, str]]) -> "ChunkResult":
        """One chunk in one transaction, on this thread's connection."""
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Safe to lose on a server crash: the run's own success record goes with it, and the next
                # sync loads the chunk again. Saves an fsync per chunk.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute("SET LOCAL work_mem TO '64MB'")  # the chunk's sorts stay in memory
                # Compiling these long expressions costs far more than it saves on a chunk (seen: 6x slower).
                cursor.execute("SET LOCAL jit TO off")
                self._prepare(cursor)
                with cursor.cursor.copy(f"COPY {STAGE} (_line, _doc) FROM STDIN") as copy:
                    for number, line in lines:
                        copy.write_row((number, line))
                cursor.execute(self.parse)
                cursor.execute(
                    f"SELECT _line, _ok, external_id, changed_at FROM {self.parsed} WHERE NOT _ok OR _deleted"
                )
                odd = cursor.fetchall()
                cursor.execute(self.upsert)
                for statement in self.children:
                    cursor.execute(statement)
                versions.rows_changed(self.entity.model, select=f"SELECT id FROM {WRITTEN}")
                cursor.execute(
                    f"SELECT (SELECT count(*) FROM {self.parsed} WHERE _ok AND NOT _deleted), "
                    f"count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM {WRITTEN}"
                )
                clean, created, updated = cursor.fetchone()
                if self.entity.model is Invoice and created:
                    cursor.execute(f"SELECT id FROM {WRITTEN} WHERE created ORDER BY id")
                    invoice_ids = [row[0] for row in cursor.fetchall()]
                    signals.invoices_imported.send(sender=Invoice, invoice_ids=invoice_ids)
        except Exception as exc:
            # Unreadable JSON somewhere in the chunk, a write the database refuses, or a deadlock with a chunk
            # loaded beside this one: the Python path goes through the chunk record by record.
            if isinstance(exc, REFUSED) or isinstance(exc.__cause__ or exc, DeadlockDetected | SerializationFailure):
                return ChunkResult(left=list(lines))
            raise
        left = {line for line, ok, _, _ in odd if not ok}
        return ChunkResult(
            created=created,
            updated=updated,
            unchanged=clean - created - updated,
            deletions=[(line, external_id, changed_at) for line, ok, external_id, changed_at in odd if ok],
            left=[pair for pair in lines if pair[0] in left],
        )

    def load_parallel(self, chunks: Iterable[list[tuple[int, str]]], *, workers: int) -> Iterator["ChunkResult"]:
        """Load chunks on `workers` threads, each with its own connection; yield their results in order.

        At most `workers` chunks wait besides those being loaded, so memory stays bounded. Chunks are
        independent: an upsert only ever takes a newer change, whichever chunk commits first.
        """
        inbox: queue.Queue = queue.Queue(maxsize=workers)
        results: dict[int, ChunkResult | BaseException] = {}
        ready = threading.Condition()

        def work() -> None:
            try:
                while (item := inbox.get()) is not None:
                    number, lines = item
                    try:
                        outcome: ChunkResult | BaseException = self.load_chunk(lines)
                    except BaseException as exc:  # noqa: BLE001 - handed to the loading thread, which raises it
                        outcome = exc
                    with ready:
                        results[number] = outcome
                        ready.notify_all()
            finally:
                connection.close()

        threads = [threading.Thread(target=work, name=f"ibok-sync-{i}", daemon=True) for i in range(workers)]
        for thread in threads:
            thread.start()
        submitted = taken = 0

        def take(wait: bool) -> ChunkResult | None:
            nonlocal taken
            with ready:
                if wait:
                    ready.wait_for(lambda: taken in results)
                elif taken not in results:
                    return None
                outcome = results.pop(taken)
            taken += 1
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        try:
            for lines in chunks:
                inbox.put((submitted, lines))  # blocks while `workers` chunks wait
                submitted += 1
                while (result := take(wait=False)) is not None:
                    yield result
            while taken < submitted:
                yield take(wait=True)
        finally:
            with contextlib.suppress(queue.Empty):
                while True:
                    inbox.get_nowait()
            for _ in threads:
                inbox.put(None)
            for thread in threads:
                thread.join()

    def _prepare(self, cursor) -> None:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (_line integer, _doc jsonb)")
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {WRITTEN} (external_id text, id bigint, created boolean)")
        cursor.execute(self.create_parsed)
        cursor.execute(f"TRUNCATE {STAGE}, {WRITTEN}, {self.parsed}")


@dataclass
class ChunkResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deletions: list[tuple[int, str, datetime]] = field(default_factory=list)
    left: list[tuple[int, str]] = field(default_factory=list)  # for the Python path
