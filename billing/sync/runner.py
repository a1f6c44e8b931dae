"""The billing sync: brings in what the billing system changed, one sync at a time, and raises the alarm.

`sync_run` takes batches from a source (billing/sync/sources.py) and loads each with the importer through
`billing.services.batch_import`, which records a SyncRun. The cursor is the `cursor_to` of the last whole
successful run, so a sync killed half-way is simply done again by the next one, idempotently.
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins

from accounts.models import Customer
from billing import services
from billing.models import SyncRun, SyncStatus
from billing.sync.importer import BatchRefused
from billing.sync.lock import sync_lock
from billing.sync.sources import FileDropSource, HttpPullSource, Source, SourceUnavailable
from core.jobs import enqueue

logger = logging.getLogger(__name__)

# Functions called after every sync with `now=`: upper parts of the portal reconcile what the sync brought
# (a pending self-reading confirmed, an online payment booked). Filled in BillingConfig.ready().
AFTER_SYNC_HOOKS: list[Callable[..., None]] = []


class SyncBusy(Exception):
    """Another sync holds the lock."""


def source_from_settings() -> Source:
    if settings.IBOK_BILLING_SOURCE == "http":
        return HttpPullSource(
            url=settings.IBOK_BILLING_URL,
            token=settings.IBOK_BILLING_TOKEN,
            work_dir=Path(settings.VAR_DIR) / "billing-pull",
            page_size=settings.IBOK_BILLING_PAGE_SIZE,
        )
    return FileDropSource(settings.IBOK_BILLING_DROP_DIR)


def last_cursor(*, source_name: str) -> str:
    run = (
        SyncRun.objects.filter(source=source_name, status__in=[SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED_WITH_REJECTS])
        .exclude(cursor_to="")
        .order_by("-finished_at", "-id")
        .first()
    )
    return run.cursor_to if run else ""


def sync_run(*, source: Source, clock: Callable[[], datetime], customer: Customer | None = None) -> list[SyncRun]:
    """Bring in everything the billing system changed since the last sync (or one customer's data).

    Raises SyncBusy when another sync runs; SourceUnavailable (recorded as a failed run) when the billing
    system cannot be reached. A sync that dies half-way is finished by the next one: the cursor moves only
    after a whole batch is loaded, and loading is idempotent.
    """
    with sync_lock() as acquired:
        if not acquired:
            raise SyncBusy
        # Runs left RUNNING can only belong to a worker that died: we hold the lock now.
        SyncRun.objects.filter(status=SyncStatus.RUNNING).update(
            status=SyncStatus.FAILED, finished_at=clock(), errors=[{"error": "abandoned: the worker stopped"}]
        )
        runs = []
        cursor = "" if customer else last_cursor(source_name=source.name)
        try:
            for batch in source.batches(cursor=cursor, customer_id=customer.external_id if customer else None):
                try:
                    run = services.batch_import(folder=batch.folder, clock=clock, source=batch.label)
                except BatchRefused:
                    if batch.done_folder is not None:
                        batch.done_folder = batch.folder.parent / "refused" / batch.folder.name
                        batch.finish()
                    continue
                batch.finish()
                runs.append(run)
        except SourceUnavailable as exc:
            now = clock()
            SyncRun.objects.create(
                started_at=now,
                finished_at=now,
                source=source.name,
                status=SyncStatus.FAILED,
                errors=[{"file": None, "line": None, "id": None, "error": str(exc)}],
            )
            raise
        for hook in AFTER_SYNC_HOOKS:
            hook(now=clock())
        return runs


def customer_sync_request(*, customer: Customer, now: datetime, throttle_seconds: int | None = None) -> bool:
    """Queue an on-demand sync of one customer; False when one was queued too recently."""
    seconds = settings.IBOK_CUSTOMER_SYNC_THROTTLE_SECONDS if throttle_seconds is None else throttle_seconds
    if seconds and not cache.add(f"ibok:customer-sync:{customer.pk}", now.isoformat(), timeout=seconds):
        return False
    enqueue("billing.customer_sync", customer_id=customer.pk)
    return True


def sync_alarm_check(*, now: datetime) -> str | None:
    """Tell staff (once per incident) when the last sync failed or is late; returns the alarm text."""
    alarm = sync_alarm(now=now)
    incident = hashlib.sha256(alarm.encode()).hexdigest()[:32] if alarm else ""
    if alarm and cache.add(f"ibok:sync-alarm:{incident}", "1", timeout=6 * 3600):
        mail_admins("iBOK: billing sync alarm", alarm)
        logger.error("billing sync alarm: %s", alarm)
    return alarm


def sync_alarm(*, now: datetime) -> str | None:
    last = SyncRun.objects.exclude(status=SyncStatus.RUNNING).order_by("-started_at", "-id").first()
    ok = (
        SyncRun.objects.filter(status__in=[SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED_WITH_REJECTS])
        .order_by("-finished_at", "-id")
        .first()
    )
    if last is not None and last.status == SyncStatus.FAILED:
        return f"The last billing sync ({last.started_at:%Y-%m-%d %H:%M} UTC) failed: {last.errors[:1]}"
    if ok is None:
        return "No billing sync has succeeded yet."
    if ok.finished_at < now - settings.IBOK_SYNC_MAX_AGE:
        return f"The last successful billing sync finished at {ok.finished_at:%Y-%m-%d %H:%M} UTC: it is late."
    return None
