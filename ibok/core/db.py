"""Small database helpers shared by the apps."""

from collections.abc import Iterable

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
