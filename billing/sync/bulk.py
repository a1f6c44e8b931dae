"""Bulk reads and writes by billing-system id, as the Python loader and the entities' child writes use them.

On PostgreSQL rows travel by COPY and ids as one array parameter; elsewhere (the embedded SQLite default)
as multi-row statements with bound values.
"""

import json
from collections.abc import Iterable

from django.db import connection, models

UPSERT_PARAMETERS = 30_000  # bound values per statement where COPY is not available
RESOLVE_PART = 10_000


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def resolve(model: type[models.Model], external_ids: Iterable[str]) -> dict[str, int]:
    """{external_id: pk} of the given ids that exist."""
    ids = list(set(external_ids))
    found: dict[str, int] = {}
    if not ids:
        return found
    if on_postgres():
        # One array parameter instead of thousands of bound values: much cheaper to send and plan.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, id FROM {quote(model._meta.db_table)} WHERE external_id = ANY(%s)", [ids]
            )
            found.update(cursor.fetchall())
        return found
    for start in range(0, len(ids), RESOLVE_PART):
        part = ids[start : start + RESOLVE_PART]
        found.update(model.objects.filter(external_id__in=part).values_list("external_id", "pk"))
    return found


def upsert(model: type[models.Model], attnames: list[str], rows: list[tuple]) -> dict[str, int]:
    """Insert or update by external_id when the incoming change is newer; returns {external_id: pk} written."""
    table = quote(model._meta.db_table)
    quoted = [quote(a) for a in attnames]
    updates = ", ".join(f"{q} = excluded.{q}" for q in quoted if q != '"external_id"')
    conflict = (
        f"ON CONFLICT (external_id) DO UPDATE SET {updates} "
        f"WHERE {table}.source_updated_at < excluded.source_updated_at RETURNING external_id, id"
    )
    if on_postgres():
        return _upsert_by_copy(model, quoted, rows, conflict)
    return _upsert_by_values(model, attnames, rows, conflict)


def _copyable(row: tuple) -> list:
    """COPY takes JSON (a payment plan's schedule) as its text: jsonb columns parse it."""
    return [json.dumps(value) if isinstance(value, (dict, list)) else value for value in row]


def _upsert_by_copy(model: type[models.Model], quoted: list[str], rows: list[tuple], conflict: str) -> dict[str, int]:
    table, columns = quote(model._meta.db_table), ", ".join(quoted)
    staging = f"_ibok_import_{model._meta.model_name}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS SELECT {columns} FROM {table} "
            "WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_copyable(row))
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} {conflict}")
        written = dict(cursor.fetchall())
        cursor.execute(f"TRUNCATE {staging}")
    return written


def _upsert_by_values(
    model: type[models.Model], attnames: list[str], rows: list[tuple], conflict: str
) -> dict[str, int]:
    table, columns = quote(model._meta.db_table), ", ".join(quote(a) for a in attnames)
    fields = [model._meta.get_field(a) for a in attnames]
    per_statement = max(1, UPSERT_PARAMETERS // len(attnames))
    placeholders = "(" + ", ".join(["%s"] * len(attnames)) + ")"
    written: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            params = [f.get_db_prep_save(v, connection) for row in part for f, v in zip(fields, row, strict=True)]
            values = ", ".join([placeholders] * len(part))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} {conflict}", params)
            written.update(cursor.fetchall())
    return written


def insert_rows(model: type[models.Model], attnames: list[str], rows: Iterable[tuple]) -> None:
    """Plain bulk insert of child rows (invoice lines, allocations)."""
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(a) for a in attnames)
    with connection.cursor() as cursor:
        if on_postgres():
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        fields = [model._meta.get_field(a) for a in attnames]
        prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows]
        if prepared:
            placeholders = ", ".join(["%s"] * len(attnames))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", prepared)
