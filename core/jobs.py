"""Background work through the outbox: every effect a change causes is a row written in the change's transaction.

`enqueue("accounts.registration_email_send", registration_id=7)` writes a QueuedTask; after the commit the rows
of that transaction are handed to Celery at once when the broker answers ("the kick"), and the relay task (Celery
beat, every minute) hands over whatever still waits, after the broker was down or a process died between the
commit and the kick. Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED, so two relays never hand over the
same row; a relay that dies after handing over and before stamping the row hands it over again, so every task is
safe to run twice (it claims its own work). Services name tasks instead of importing them: tasks import services,
never the other way.
"""

import importlib
import logging
import socket
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.models import QueuedTask

logger = logging.getLogger(__name__)

RELAY_BATCH = 200
KEEP_RELAYED = timedelta(days=7)  # handed-over rows are kept this long for staff, then deleted
BROKER_PAUSE_SECONDS = 30  # after a failed kick this process leaves the rows to the relay for a while
BROKER_PROBE_SECONDS = 0.5
DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "pyamqp": 5672, "amqps": 5671}
# What a broker that does not answer raises (a refused or timed-out connection), as opposed to a task's own error.
BROKER_ERRORS = (OperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)

_broker_down_until = 0.0


class UnknownTask(LookupError):
    """enqueue() was given a name that is not "<app>.<task>" of a task in <app>/tasks.py."""


def task_for(name: str):
    """The Celery task "<app>.<task>" names (the function <task> of <app>.tasks)."""
    app_label, _dot, task_name = name.partition(".")
    try:
        task = getattr(importlib.import_module(f"{app_label}.tasks"), task_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UnknownTask(name) from exc
    if not hasattr(task, "apply_async"):
        raise UnknownTask(name)
    return task


def enqueue(task: str, **kwargs) -> QueuedTask:
    """Owe the task `task` ("<app>.<task>") with these keyword arguments (ids, JSON) once the transaction commits.

    Nothing is sent after a rollback, and nothing is lost when the broker is down. Raises UnknownTask.
    """
    task_for(task)
    row = QueuedTask.objects.create(created_at=timezone.now(), task=task, kwargs=kwargs)
    connection = transaction.get_connection()
    waiting = connection.__dict__.setdefault("ibok_enqueued", [])
    waiting.append(row.pk)
    # One callback a row, so a savepoint rolled back does not take the others' with it; the first one kicks all.
    # With a broker, a failing kick is logged and the page answers normally; in-process (no broker) the task's
    # own error is the caller's, as it would be without the outbox.
    transaction.on_commit(lambda: _kick(connection), robust=not settings.CELERY_TASK_ALWAYS_EAGER)
    return row


def _kick(connection) -> None:
    global _broker_down_until
    ids = connection.__dict__.pop("ibok_enqueued", [])
    if not ids:
        return
    if time.monotonic() < _broker_down_until:
        return  # the broker did not answer a moment ago: the relay takes these when it is back
    if not broker_answers():
        _broker_down_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning("broker does not answer; %d queued task(s) wait for the relay", len(ids))
        return
    relay(now=timezone.now(), ids=ids)


def broker_answers() -> bool:
    """The broker accepts a connection within BROKER_PROBE_SECONDS (always, for an in-process or memory broker).

    Asked before the kick because a publish to a Redis that is down takes seconds of the client's own retries,
    which the page that caused the work would wait for.
    """
    from celery import current_app

    if current_app.conf.task_always_eager:
        return True
    url = urlsplit(str(current_app.conf.broker_url or ""))
    if url.scheme not in DEFAULT_PORTS:
        return True
    try:
        socket.create_connection(
            (url.hostname or "localhost", url.port or DEFAULT_PORTS[url.scheme]), BROKER_PROBE_SECONDS
        ).close()
    except OSError:
        return False
    return True


def _hand_over(row: QueuedTask) -> None:
    task = task_for(row.task)
    # No publish retries: a broker that does not answer leaves the row to the relay, and the page is not held up.
    # The Celery id names the row: handed over twice, the task runs twice under one id, and what it already sent
    # (e-mails, core.emails) is not sent again.
    task.apply_async(kwargs=row.kwargs, retry=False, task_id=queued_task_id(row.pk))


def queued_task_id(pk: int) -> str:
    """The Celery task id of the queued task `pk` (the same for every hand-over and every retry)."""
    return f"queued-{pk}"


def relay(*, now: datetime, ids: list[int] | None = None, limit: int = RELAY_BATCH) -> int:
    """Hand waiting rows (all, or these ids) to Celery, oldest first; returns how many were handed over.

    Stops at the first row the broker does not take; that row and the rest wait for the next relay.
    """
    global _broker_down_until
    handed = 0
    unknown: set[int] = set()
    while True:
        with transaction.atomic():
            waiting = QueuedTask.objects.select_for_update(skip_locked=True).filter(relayed_at__isnull=True)
            if ids is not None:
                waiting = waiting.filter(pk__in=ids)
            rows = list(waiting.exclude(pk__in=unknown).order_by("id")[:limit])
            done: list[int] = []
            failed = None
            for row in rows:
                try:
                    _hand_over(row)
                except UnknownTask:
                    # Renamed or removed since the row was written: it waits (and turns /health/ red) for staff.
                    unknown.add(row.pk)
                    QueuedTask.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1, last_error="unknown task")
                    continue
                except BROKER_ERRORS as exc:
                    if task_for(row.task).app.conf.task_always_eager:
                        raise  # no broker: the task ran here and failed; its error is the caller's
                    failed = (row, exc)
                    break
                done.append(row.pk)
            QueuedTask.objects.filter(pk__in=done).update(relayed_at=now)
            if failed is not None:
                row, exc = failed
                QueuedTask.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
                )
        handed += len(done)
        if failed is not None:
            _broker_down_until = time.monotonic() + BROKER_PAUSE_SECONDS
            waiting = len(rows) - len(done)
            logger.warning("broker did not take task %s (%s); %d row(s) wait for the relay", row.task, exc, waiting)
            return handed
        if len(rows) < limit:
            return handed


def relay_all(*, now: datetime) -> dict[str, int]:
    """The relay task's work: reopen the kick (the broker answers, since this task arrived), hand over what waits,
    forget rows handed over long ago."""
    global _broker_down_until
    _broker_down_until = 0.0
    handed = relay(now=now)
    deleted, _counts = QueuedTask.objects.filter(relayed_at__lt=now - KEEP_RELAYED).delete()
    return {"relayed": handed, "deleted": deleted}
