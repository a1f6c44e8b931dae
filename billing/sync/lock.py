"""One sync at a time, and a dead worker never leaves the lock behind.

On PostgreSQL a session-level advisory lock: it belongs to the worker's database connection, so the server
releases it the moment that connection dies with its worker. On the embedded SQLite default (one process)
a cache key with a timeout serves.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

SYNC_LOCK_KEY = 0x1B0C_5C  # any constant unique among the portal's advisory locks


@contextmanager
def sync_lock() -> Iterator[bool]:
    """Yields True when this process holds the lock, False when another sync runs.

    Raises ImproperlyConfigured behind a transaction-mode pooler, which cannot keep a session's lock."""
    if settings.DATABASE_POOLER == "transaction":
        raise ImproperlyConfigured(
            "The billing sync holds a session-level lock for its whole run: give the sync worker a direct "
            "connection to PostgreSQL (DATABASE_URL without the pooler, DATABASE_POOLER empty)."
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK_KEY])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])
    else:
        acquired = cache.add("ibok:billing-sync-lock", "1", timeout=3600)
        try:
            yield acquired
        finally:
            if acquired:
                cache.delete("ibok:billing-sync-lock")
