"""The billing sync: brings in what the billing system changed, one sync at a time, and raises the alarm.

`sync_run` takes batches from a source (billing/sync/sources.py) and loads each with the loader through
`billing.services.batch_import`, which records a SyncRun. The cursor is the `cursor_to` of the last whole
successful run, so a sync killed half-way is simply done again by the next one, idempotently. After loading,
invoice PDFs no row points to are swept away and the meters app confirms the self-readings the billing system
has now booked.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins

from accounts.models import Customer
from billing import services
from billing.models import SyncRun, SyncStatus
from billing.sync import pdfs
from billing.sync.contract import BatchRefused
from billing.sync.lock import SyncBusy, sync_lock, sync_lock_holder
from billing.sync.sources import Batch, FileDropSource, HttpPullSource, Source, SourceUnavailable
from meters import services as meter_services

logger = logging.getLogger(__name__)

__all__ = ["SyncBusy", "sync_alarm_check", "sync_run"]


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

    Raises SyncBusy when another sync runs (and logs which); SourceUnavailable (recorded as a failed run) when
    the billing system cannot be reached. A sync that dies half-way is finished by the next one: the cursor
    moves only after a whole batch is loaded, and loading is idempotent.
    """
    run_id = uuid.uuid4().hex[:12]
    with sync_lock(run_id) as acquired:
        if not acquired:
            raise _busy(run_id)
        logger.info("billing sync %s started (source %s)", run_id, source.name)
        # Runs left RUNNING can only belong to a worker that died: we hold the lock now.
        SyncRun.objects.filter(status=SyncStatus.RUNNING).update(
            status=SyncStatus.FAILED, finished_at=clock(), errors=[{"error": "abandoned: the worker stopped"}]
        )
        runs = _load_batches(source=source, clock=clock, customer=customer, run_id=run_id)
        if runs and customer is None:  # one customer's pull brings no PDFs: the hourly sync sweeps
            pdfs.orphan_pdfs_sweep()
        meter_services.self_readings_confirm(now=clock())
        logger.info("billing sync %s finished: %d batches loaded", run_id, len(runs))
        return runs


def _busy(run_id: str) -> SyncBusy:
    holder = sync_lock_holder()
    loading = SyncRun.objects.filter(status=SyncStatus.RUNNING).order_by("-id").first()
    logger.warning(
        "billing sync %s not started: sync %s holds the lock%s",
        run_id,
        holder or "(unknown)",
        f" (loading SyncRun #{loading.pk} since {loading.started_at:%Y-%m-%d %H:%M:%S} UTC)" if loading else "",
    )
    return SyncBusy(holder)


def _load_batches(
    *, source: Source, clock: Callable[[], datetime], customer: Customer | None, run_id: str
) -> list[SyncRun]:
    runs = []
    cursor = "" if customer else last_cursor(source_name=source.name)
    try:
        for batch in source.batches(cursor=cursor, customer_id=customer.external_id if customer else None):
            run = _load_batch(batch, clock=clock, run_id=run_id)
            if run is not None:
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
    return runs


def _load_batch(batch: Batch, *, clock: Callable[[], datetime], run_id: str) -> SyncRun | None:
    """Load one batch and put its folder away; None when the batch was refused (set aside, recorded)."""
    try:
        run = services.batch_import(folder=batch.folder, clock=clock, source=batch.label)
    except BatchRefused:
        batch.refuse()
        return None
    logger.info("billing sync %s: %s recorded as SyncRun #%d", run_id, batch.label, run.pk)
    batch.finish()
    return run


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
        return f"The last billing sync finished at {ok.finished_at:%Y-%m-%d %H:%M} UTC: it is late."
    return None
