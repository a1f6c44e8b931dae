"""One sync at a time, and a dead worker never leaves the lock behind.

On PostgreSQL a session-level advisory lock: it belongs to the worker's database connection, so the server
releases it the moment that connection dies with its worker. While it holds the lock, the session carries the
sync's run id as its application name, so a second sync can say who holds it (pg_stat_activity). On the
embedded SQLite default (one process) a cache key with a timeout serves, its value the holder's run id.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

SYNC_LOCK_KEY = 0x1B0C_5C  # any constant unique among the portal's advisory locks
CACHE_KEY = "ibok:billing-sync-lock"
APPLICATION_PREFIX = "ibok-sync "


class SyncBusy(Exception):
    """Another sync holds the lock; `holder` is its run id ("" when it cannot be told)."""

    def __init__(self, holder: str = ""):
        super().__init__(f"the billing sync lock is held by run {holder or '(unknown)'}")
        self.holder = holder


@contextmanager
def sync_lock(run_id: str = "") -> Iterator[bool]:
    """Yields True when this process holds the lock, False when another sync runs.

    Raises ImproperlyConfigured behind a transaction-mode pooler, which cannot keep a session's lock."""
    if settings.DATABASE_POOLER == "transaction":
        raise ImproperlyConfigured(
            "The billing sync holds a session-level lock for its whole run: give the sync worker a direct "
            "connection to PostgreSQL (DATABASE_URL without the pooler, DATABASE_POOLER empty)."
        )
    if connection.vendor == "postgresql":
        with _advisory_lock(run_id) as acquired:
            yield acquired
        return
    acquired = cache.add(CACHE_KEY, run_id or "?", timeout=3600)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(CACHE_KEY)


@contextmanager
def _advisory_lock(run_id: str) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s), current_setting('application_name')", [SYNC_LOCK_KEY])
        acquired, application = cursor.fetchone()
        if acquired:
            cursor.execute("SELECT set_config('application_name', %s, false)", [APPLICATION_PREFIX + run_id])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('application_name', %s, false)", [application])
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])


def sync_lock_holder() -> str:
    """The run id of the sync holding the lock ("" when none does, or it cannot be told)."""
    if connection.vendor != "postgresql":
        holder = cache.get(CACHE_KEY) or ""
        return "" if holder == "?" else holder
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [SYNC_LOCK_KEY],
        )
        row = cursor.fetchone()
    name = row[0] if row else ""
    return name.removeprefix(APPLICATION_PREFIX) if name.startswith(APPLICATION_PREFIX) else ""
