"""Small database helpers shared by the apps."""

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL


def pk_in(ids: Iterable[int], field: str = "pk") -> Q:
    """`field IN ids` for the thousands of ids a sync chunk announces: one array parameter on PostgreSQL
    instead of a placeholder per id, which is much cheaper to bind, send and plan."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [ids])})
    return Q(**{f"{field}__in": ids})


# --- hand-written reads ---------------------------------------------------------------------------------------------
#
# Building and compiling an ORM query costs 0.5-1 ms of Python (bench/pages.py). The hot pages are cached under the
# customers' data version (core.versions), so their reads run once per change; what every page still reads has a
# PostgreSQL twin, a fixed SQL text that stays prepared on the connection (settings: DATABASE_PREPARED_STATEMENTS).
# Each twin's ORM original stays beside it as the reference, for SQLite and for scopes too large for id arrays, and
# a test compares the two on the same data (tests/core/test_sql_twins.py).


def sql_twins_enabled() -> bool:
    """Whether the hand-written PostgreSQL reads serve the pages (the ORM originals serve SQLite)."""
    return connection.vendor == "postgresql"


def columns(model, alias: str) -> str:
    """The select list of every concrete column of `model`, in field order, as `from_row` reads it back."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def from_row(model, row: Sequence, start: int = 0):
    """A model instance from `row[start:]` as selected by `columns(model, ...)`; it is as if the ORM loaded it."""
    names = _attnames(model)
    return model.from_db(connection.alias, names, row[start : start + len(names)])


@functools.cache
def _attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def fetch(sql: str, params: Mapping[str, object]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_named(sql: str, params: Mapping[str, object]) -> list[dict[str, object]]:
    """The rows as dicts by column name, so a twin reads `row["unread"]`, never a position."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- ORM queries compiled once -----------------------------------------------------------------------------------
#
# A read every signed-in page makes (the user's scope) costs more to build and compile through the ORM than
# PostgreSQL takes to answer it. `compiled_rows` compiles the ORM query once per process and database vendor
# with a sentinel for its one parameter and then runs that very SQL with the request's value: the same query,
# so nothing can drift from the ORM, without the Python of building it again.

_SENTINEL = -918_273_645  # never a real id; found in the compiled parameters to prove it is the only one
_COMPILED: dict[tuple[str, str], str] = {}


def compiled_rows(name: str, build: Callable[[int], QuerySet], value: int) -> list[tuple]:
    """The rows of `build(value)` (a `values_list` query whose only parameter is `value`), as tuples; the query is
    compiled by the ORM the first time only."""
    key = (name, connection.vendor)
    sql = _COMPILED.get(key)
    if sql is None:
        sql, params = build(_SENTINEL).query.sql_with_params()
        if list(params) != [_SENTINEL]:
            raise ValueError(f"{name}: the query must have exactly one parameter, its argument ({params!r})")
        _COMPILED[key] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        return cursor.fetchall()
