"""The billing contract's shape (docs/billing-sync.md, contract version 1): a batch, its files, their records.

What an entity file holds is described by an `Entity` (its columns with their parsers, its references to
parent entities, its own record check and the children it writes); the entities themselves are listed in
billing/sync/entities.py. Both loaders read these specs: the Python one (billing/sync/loader.py) and the
set-based one (billing/sync/setbased.py), which uses the SQL forms.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from django.db import DataError, IntegrityError, models

CONTRACT_VERSION = 1
# The set-based loader's temporary tables that the entities' SQL forms read.
STAGE = "_ibok_stage"  # (_line, _doc jsonb): the chunk's records
WRITTEN = "_ibok_written"  # (external_id, id, created): the rows its upsert wrote
# What the database says of a row it will not take (a broken rule, a number too long for its column); COPY
# raises psycopg's own errors, the ORM Django's.
REFUSED = (IntegrityError, DataError, psycopg.errors.IntegrityError, psycopg.errors.DataError)


class BatchRefused(Exception):
    """The batch as a whole cannot be loaded (no manifest, another contract version)."""


def read_manifest(folder: Path) -> dict[str, Any]:
    """The batch's manifest.json; raises BatchRefused when it is missing, unreadable or of another version."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchRefused(f"{path} is missing") from None
    except json.JSONDecodeError as exc:
        raise BatchRefused(f"{path} is not valid JSON: {exc}") from None
    if manifest.get("contract_version") != CONTRACT_VERSION:
        raise BatchRefused(
            f"contract version {manifest.get('contract_version')!r} is not supported (expected {CONTRACT_VERSION})"
        )
    return manifest


@dataclass(frozen=True)
class Column:
    key: str  # key in the JSON record; "address.city" reads a nested object
    attname: str
    parse: Callable[[Any], Any]
    required: bool = True


@dataclass(frozen=True)
class Ref:
    key: str  # e.g. "customer_id": the billing system id of the parent
    attname: str  # the foreign key column it fills
    model: type[models.Model]
    required: bool = True


@dataclass
class Row:
    line: int
    external_id: str
    changed_at: datetime
    values: dict[str, Any]
    record: dict[str, Any]
    refs: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class SqlTwin:
    """An entity's record check and child writes in SQL, for billing/sync/setbased.py.

    `check` is a boolean expression over the typed columns, the record `_doc` and the `join_columns`, which
    `join` (a LEFT JOIN of an aggregate over the staged records `s`, by `_line`) provides. `after_write`
    gives the statements that write the children of the rows in WRITTEN, from the parsed table named and the
    staged records (STAGE).
    """

    check: str
    join: str = ""
    join_columns: tuple[str, ...] = ()
    after_write: Callable[[str], list[str]] | None = None


@dataclass(frozen=True)
class Entity:
    name: str
    model: type[models.Model]
    columns: list[Column]
    refs: list[Ref] = field(default_factory=list)
    check: Callable[[Row], None] | None = None
    # References inside the record (a payment's invoices): the (row, reason) pairs that name unknown ids.
    check_refs: Callable[[list[Row]], list[tuple[Row, str]]] | None = None
    # Files the rows point to, stored before the rows are written (batch folder, rows): a rerun finds them.
    before_write: Callable[[Path, list[Row]], None] | None = None
    # (rows, {external_id: pk} written, pks of the written rows that existed before): children and files.
    after_write: Callable[[list[Row], dict[str, int], list[int]], None] | None = None
    # The set-based loader's twin of `check`, `check_refs` and `after_write`.
    sql: Callable[[], SqlTwin] | None = None
    # Added to the contract later: a billing system that does not offer it (HTTP 404) is not an error.
    optional: bool = False

    @property
    def set_based(self) -> bool:
        """Every part of this entity has a SQL twin, so PostgreSQL may load it without Python parsing."""
        return all(hasattr(column.parse, "sql") for column in self.columns) and (
            self.sql is not None or (self.check is None and self.after_write is None)
        )
