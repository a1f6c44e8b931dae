"""A version per customer's data, and the page fragments cached under it.

The portal mirrors the billing system: a customer's data changes only when a sync writes it, when the customer
(or their manager) acts, or when staff change it, and each of those writes calls `bump` in its own transaction.
What a hot page shows is then cached under (its scope, the sum of its customers' versions, the language, the
day): a cached fragment is never stale, and nothing expires it but memory.

Why a sum: every version only grows (a row is never deleted), so the sum over a fixed set of customers grows
with any change to any of them, and a manager of five hundred customers reads one number. The set itself is
part of the key (the scope's identity).
"""

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Sum
from django.utils import translation

from core.models import DataVersion

_TABLE = DataVersion._meta.db_table

# Rows are taken in id order, so two transactions bumping overlapping customers wait for each other instead of
# deadlocking (the sync loads chunks on two connections at once).
_BUMP_SQL = f"""
WITH changed(customer_id) AS ({{ids}})
INSERT INTO {_TABLE} (customer_id, version, changed_at)
SELECT DISTINCT customer_id, 1, CURRENT_TIMESTAMP FROM changed WHERE customer_id IS NOT NULL ORDER BY customer_id
ON CONFLICT (customer_id) DO UPDATE SET version = {_TABLE}.version + 1, changed_at = CURRENT_TIMESTAMP
"""


def bump(customer_ids: Iterable[int]) -> None:
    """The data of these customers changed in the current transaction: one statement."""
    ids = sorted({int(customer_id) for customer_id in customer_ids if customer_id is not None})
    if not ids:
        return
    if connection.vendor == "postgresql":
        bump_select("SELECT unnest(%s::bigint[])", [ids])
    else:
        bump_select("VALUES " + ", ".join(["(%s)"] * len(ids)), ids)


def bump_select(select: str, params: Iterable = ()) -> None:
    """The same for the customers a SELECT of one column names (the set-based sync: no ids through Python)."""
    with connection.cursor() as cursor:
        cursor.execute(_BUMP_SQL.format(ids=select), list(params))


def version_of(customer_ids: Iterable[int]) -> int:
    """The sum of the customers' versions (0 for a customer never changed): one indexed query."""
    ids = sorted(customer_ids)
    if not ids:
        return 0
    if connection.vendor != "postgresql":
        return DataVersion.objects.filter(customer_id__in=ids).aggregate(total=Sum("version"))["total"] or 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(sum(version), 0) FROM {_TABLE} WHERE customer_id = ANY(%s)", [ids])
        return int(cursor.fetchone()[0])


def state_of(customer_ids: Iterable[int]) -> tuple[int, datetime | None]:
    """The sum of the customers' versions and when the latest of them moved (None: never, or not since the
    column came): one indexed query, for the API's ETag and Last-Modified."""
    ids = sorted(customer_ids)
    if not ids:
        return 0, None
    found = DataVersion.objects.filter(customer_id__in=ids).aggregate(total=Sum("version"), last=Max("changed_at"))
    return int(found["total"] or 0), found["last"]


def fragment(name: str, *, customer_ids: Iterable[int], identity: object, render: Callable[[], str]) -> str:
    """The HTML `render()` returns, cached under the customers' version, the language and `identity` (what else
    the fragment depends on: the scope, the day, the page's filters).

    The version is read before `render` reads the data, so a fragment is never filed under a newer version than
    the data it shows (a write committing in between files newer data under the older version: harmless).
    """
    return cached(name, customer_ids=customer_ids, identity=identity, compute=render)


def cached[T](name: str, *, customer_ids: Iterable[int], identity: object, compute: Callable[[], T]) -> T:
    """What `compute()` returns (HTML, or any picklable value such as a page's totals), cached as `fragment`
    caches HTML: under the customers' version, the language and `identity`."""
    customer_ids = frozenset(customer_ids)
    version = version_of(customer_ids)
    digest = hashlib.sha256(repr((sorted(customer_ids), version, identity)).encode()).hexdigest()
    key = f"fragment:{name}:{translation.get_language()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.IBOK_FRAGMENT_CACHE_SECONDS)
    return value
