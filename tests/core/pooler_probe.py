"""Run by tests/core/test_pooler.py in a child process whose DATABASE_URL points at a PgBouncer in transaction
mode: the portal's database settings as they come from the environment, and two connections that take turns,
so that connection A's next transaction lands on a different server connection than its last one.

Prints "ok" when both a repeated query (psycopg prepares it after 5 runs) and a server-side cursor survive the
switch, else the error PostgreSQL gave."""

import os
import sys
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibok.test_settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Permission  # noqa: E402
from django.db import connection, transaction  # noqa: E402


def hold_the_last_server_connection(started: threading.Event, release: threading.Event) -> None:
    """Connection B: a transaction that keeps the server connection A used last (PgBouncer reuses the most
    recently freed one) until A has run again."""
    with transaction.atomic():
        Permission.objects.filter(pk=-1).exists()
        started.set()
        release.wait(30)
    connection.close()


def switch_server_connection(work) -> None:
    started, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=hold_the_last_server_connection, args=(started, release))
    thread.start()
    started.wait(30)
    try:
        work()
    finally:
        release.set()
        thread.join()


def main() -> int:
    codenames = Permission.objects.order_by("pk").values_list("codename", flat=True)
    try:
        for _ in range(6):  # past psycopg's prepare threshold
            list(codenames[:3])
        switch_server_connection(lambda: list(codenames[:3]))

        rows = Permission.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2)
        first = [next(rows), next(rows)]  # the first chunk fetched from the cursor
        switch_server_connection(lambda: first.extend(rows))  # the rest fetched on another server connection
        assert len(first) == Permission.objects.count()
    except Exception as exc:  # noqa: BLE001 - the test reads what failed
        print(f"failed: {type(exc).__name__}: {exc}")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
