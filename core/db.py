"""Small database helpers shared by the apps."""

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL


def pk_in(ids: Iterable[int], field: str = "pk") -> Q:
    """`field IN ids` for the thousands of ids a sync chunk announces: one array parameter on PostgreSQL
    instead of a placeholder per id, which is much cheaper to bind, send and plan."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [ids])})
    return Q(**{f"{field}__in": ids})


# --- hand-written reads for the pages every customer opens --------------------------------------------------------
#
# Building and compiling an ORM query costs 0.5-1 ms of Python (bench/pages.py), more than PostgreSQL takes to answer
# the dashboard's. Their PostgreSQL twins are fixed SQL texts, so they also stay prepared on the connection
# (settings: DATABASE_PREPARED_STATEMENTS). Each twin's ORM original stays the reference, for SQLite and for scopes
# too large for id arrays, and a test compares the two on the same data (tests/core/test_sql_twins.py).


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


def width(model) -> int:
    """How many values `columns(model, ...)` selects."""
    return len(_attnames(model))


@functools.cache
def _attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@dataclass(frozen=True)
class ScopedSql:
    """A twin in two texts. PostgreSQL plans a statement with an array parameter again on every run (it assumes ten
    elements, which looks dearer than the plan for the actual ids), but keeps one plan for a statement that reads
    one customer by a plain parameter: 0.1-0.4 ms of its CPU per query. So the usual scope, one whole customer,
    gets its own text."""

    any_scope: str  # with %(full)s and %(points)s arrays
    one_customer: str  # with %(customer)s

    def for_scope(self, scope) -> str:
        return self.one_customer if scope.one_customer_id is not None else self.any_scope


def scoped_sql(template: str, **conditions: tuple[str, str]) -> ScopedSql:
    """`template` with each {name} replaced by conditions[name]: (for any scope, for one customer)."""
    return ScopedSql(
        template.format(**{name: pair[0] for name, pair in conditions.items()}),
        template.format(**{name: pair[1] for name, pair in conditions.items()}),
    )


def fetch(sql: str, params: Mapping[str, object]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
