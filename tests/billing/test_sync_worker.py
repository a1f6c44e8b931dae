"""The billing sync and the outbox run by a real Celery worker process, over real Redis and PostgreSQL.

The worker is started per test against the test database, listening on a queue of its own; the billing
system is the demo billing server on loopback.
"""

import json
import os
import shutil
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Customer
from billing import tasks
from billing.models import Invoice, Payment, SyncRun, SyncStatus
from billing.sync import pdfs
from core import tasks as core_tasks
from core.models import OutboxMessage, OutboxStatus
from core.services import outbox_put
from demo import batch as demo
from demo.server import DemoBillingSystem, serve
from ibok.celery import app as celery_app
from meters.models import Reading
from tests.billing.snapshots import (
    SYNCED_MODELS,
    add_invoice_pdfs,
    stored_pdfs,
    synced_checksums,
    synced_row_count,
    synced_state,
)
from tests.worker import Worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TOKEN = "worker-test-token"


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("worker") / "batch"
    demo.write_demo_batch(folder, customers=40, seed=11, years=2, today=date(2026, 11, 21))
    return folder


@pytest.fixture
def billing_system(demo_batch):
    system = DemoBillingSystem(token=TOKEN)
    system.add_batch(demo_batch)
    server = serve(system)
    system.url = f"http://127.0.0.1:{server.server_port}"
    yield system
    server.shutdown()


@pytest.fixture
def worker_factory(billing_system, settings, tmp_path):
    queue = f"ibok-test-{uuid.uuid4().hex[:8]}"
    settings.MEDIA_ROOT = tmp_path / "media"  # the worker's too
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ibok.test_settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "IBOK_CELERY_EAGER": "0",
        "IBOK_BILLING_SOURCE": "http",
        "IBOK_BILLING_URL": billing_system.url,
        "IBOK_BILLING_TOKEN": TOKEN,
        "IBOK_BILLING_PAGE_SIZE": "500",
        "IBOK_OUTBOX_TRANSPORT": "http",
        "IBOK_OUTBOX_URL": f"{billing_system.url}/v1/inbox",
        "IBOK_OUTBOX_TOKEN": TOKEN,
        "IBOK_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    workers: list[Worker] = []
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue

    def start(**extra_env: str) -> Worker:
        worker = Worker(queue, {**env, **extra_env}).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous


def sync_through_worker() -> SyncRun:
    """Queue the hourly sync and wait for the run it records (not an older one closed meanwhile)."""
    newest = SyncRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
    tasks.billing_sync.delay()
    return wait_for(
        lambda: SyncRun.objects.filter(id__gt=newest).exclude(status=SyncStatus.RUNNING).order_by("-id").first(),
        what="the sync run to finish",
    )


def expected_rows(batch: Path) -> int:
    """Records in the batch files, counting invoice lines and payment allocations as the rows they become."""
    total = 0
    for path in batch.glob("*.jsonl"):
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            total += 1 + len(record.get("lines", [])) + len(record.get("allocations", []))
    return total


def test_a_sync_run_twice_by_the_worker_writes_everything_once(worker_factory, demo_batch):
    worker_factory()

    first = sync_through_worker()
    state = synced_state()
    second = sync_through_worker()

    assert first.status == SyncStatus.SUCCEEDED
    assert synced_row_count() == expected_rows(demo_batch)
    assert second.status == SyncStatus.SUCCEEDED
    assert second.total("read") == 0
    assert synced_state() == state


def test_the_worker_picks_up_only_what_changed(worker_factory, billing_system, demo_batch):
    worker_factory()
    sync_through_worker()
    invoice = json.loads((demo_batch / "invoices.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    paid = {**invoice, "outstanding": "0.00", "changed_at": "2026-11-21T09:30:00+00:00"}
    billing_system.put("invoices", paid)

    run = sync_through_worker()

    assert run.total("read") == 1
    assert run.counts["invoices"]["updated"] == 1
    assert Invoice.objects.get(external_id=invoice["id"]).outstanding == 0


@pytest.fixture(scope="module")
def batch_with_pdfs(demo_batch, tmp_path_factory) -> Path:
    folder = shutil.copytree(demo_batch, tmp_path_factory.mktemp("worker-pdfs") / "batch")
    add_invoice_pdfs(folder)
    return folder


def drop_batch(batch: Path, drop: Path) -> None:
    shutil.rmtree(drop, ignore_errors=True)
    shutil.copytree(batch, drop / "2026-11-21T10")


def wipe_synced_data(media: Path) -> None:
    for model in reversed(SYNCED_MODELS):
        model.objects.all().delete()
    SyncRun.objects.all().delete()
    shutil.rmtree(media / pdfs.FOLDER, ignore_errors=True)


# Where the worker is killed: loading readings (set-based, in parallel chunks), storing invoice PDFs (the Python
# path: files written before their rows), loading payments and their allocations.
KILL_POINTS = {
    "readings": lambda: Reading.objects.exists(),
    "invoice PDFs": lambda: bool(stored_pdfs()),
    "payments": lambda: Payment.objects.exists(),
}


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_a_sync_killed_mid_run_is_finished_by_the_next_with_the_clean_result(
    worker_factory, batch_with_pdfs, tmp_path, kill_point
):
    drop, media = tmp_path / "drop", Path(settings.MEDIA_ROOT)
    # Small chunks make the load long enough to be caught in the middle.
    env = {"IBOK_SYNC_BATCH_SIZE": "20", "IBOK_BILLING_SOURCE": "files", "IBOK_BILLING_DROP_DIR": str(drop)}
    drop_batch(batch_with_pdfs, drop)
    worker = worker_factory(**env)
    tasks.billing_sync.delay()
    wait_for(KILL_POINTS[kill_point], what=f"the load to reach the {kill_point}")
    worker.kill()
    assert SyncRun.objects.get().status == SyncStatus.RUNNING, "the worker finished before it could be killed"
    assert 0 < synced_row_count() < expected_rows(batch_with_pdfs)

    worker_factory(**env)
    resumed = sync_through_worker()
    after_kill = synced_checksums(), stored_pdfs(), synced_state()
    # The clean reference: the same batch again, from nothing.
    wipe_synced_data(media)
    drop_batch(batch_with_pdfs, drop)
    clean = sync_through_worker()

    assert resumed.status == SyncStatus.SUCCEEDED
    assert clean.status == SyncStatus.SUCCEEDED
    assert after_kill[0] == synced_checksums()  # row counts and a checksum of every synced table
    assert after_kill[1] == stored_pdfs()  # the same PDF files under the same names, no orphans
    assert len(after_kill[1]) == Invoice.objects.count()
    assert after_kill[2] == synced_state()
    assert synced_row_count() == expected_rows(batch_with_pdfs)


def test_the_next_sync_marks_the_killed_run_as_abandoned(worker_factory):
    worker = worker_factory(IBOK_SYNC_BATCH_SIZE="20")
    tasks.billing_sync.delay()
    wait_for(lambda: Reading.objects.exists(), what="the load to be half-way")
    worker.kill()

    worker_factory()
    sync_through_worker()

    killed = SyncRun.objects.order_by("id").first()
    assert killed.status == SyncStatus.FAILED
    assert "abandoned" in killed.errors[0]["error"]


def test_a_malformed_record_is_reported_with_its_line_and_the_rest_loads(worker_factory, billing_system, demo_batch):
    customers = demo_batch.joinpath("customers.jsonl").read_text(encoding="utf-8").splitlines()
    broken = {**json.loads(customers[0]), "id": "C-BROKEN", "number": "9999999", "address": {"city": "Brak"}}
    broken["changed_at"] = "1980-01-01T00:00:00+00:00"  # sorts first in the pull: line 1 of customers.jsonl
    billing_system.put("customers", broken)
    worker_factory()

    run = sync_through_worker()

    assert run.status == SyncStatus.SUCCEEDED_WITH_REJECTS
    assert run.errors[0]["file"] == "customers.jsonl"
    assert run.errors[0]["line"] == 1
    assert run.errors[0]["id"] == "C-BROKEN"
    assert "address.street" in run.errors[0]["error"]
    assert Customer.objects.count() == len(customers)


def test_the_worker_retries_outbox_delivery_after_the_receiver_fails_and_books_it_once(worker_factory, billing_system):
    billing_system.fail_next_posts = 2
    message = outbox_put(
        now=timezone.now(),
        kind="reading",
        customer_number="0100001",
        idempotency_key="reading:worker-test",
        payload={
            "portal_reference": "worker-test",
            "meter_id": "M1",
            "serial_number": "X1",
            "read_date": "2026-11-20",
            "value": "123.000",
            "source": "SELF",
            "submitted_at": "2026-11-20T10:00:00+01:00",
            "has_photo": False,
            "photo_check": "",
        },  # fmt: skip
    )
    worker_factory()

    for attempt in range(1, 4):
        core_tasks.outbox_deliver.delay()
        wait_for(lambda a=attempt: OutboxMessage.objects.get(pk=message.pk).attempts >= a, what=f"attempt {attempt}")
        # Time passes until the next attempt is due.
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    core_tasks.outbox_deliver.delay()
    time.sleep(1)

    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert message.attempts == 3
    assert billing_system.inbox_posts == 3
    assert list(billing_system.inbox) == ["reading:worker-test"]
