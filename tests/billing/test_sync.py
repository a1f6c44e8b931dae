"""The billing sync in-process: sources, cursor, lock, alarms and outbox delivery (real PostgreSQL and Redis)."""

import json
import logging
import shutil
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from accounts.models import Customer
from billing import services
from billing.models import Invoice, SyncRun, SyncStatus
from billing.sync import pdfs, runner
from billing.sync.lock import SYNC_LOCK_KEY, sync_lock
from billing.sync.sources import FileDropSource, HttpPullSource, SourceUnavailable
from core import services as core_services
from core.models import OutboxMessage, OutboxStatus
from demo import batch as demo
from demo.server import DemoBillingSystem, serve
from tests.billing.snapshots import add_invoice_pdfs, stored_pdfs, synced_state

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 21)
TOKEN = "test-token"


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "batch"
    demo.write_demo_batch(folder, customers=12, seed=7, years=1, today=TODAY)
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
def http_source(billing_system, tmp_path) -> HttpPullSource:
    return HttpPullSource(url=billing_system.url, token=TOKEN, work_dir=tmp_path / "pull", page_size=50)


def copy_batch(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


def test_the_file_drop_loads_ready_batches_in_order_and_moves_them_aside(demo_batch, tmp_path):
    drop = tmp_path / "drop"
    copy_batch(demo_batch, drop / "2026-11-21T10")
    half_written = drop / "2026-11-21T11"
    half_written.mkdir()
    (half_written / "customers.jsonl").write_text("")  # no manifest yet: the billing system is still writing

    runs = runner.sync_run(source=FileDropSource(drop), clock=timezone.now)

    assert [run.status for run in runs] == [SyncStatus.SUCCEEDED]
    assert (drop / "processed" / "2026-11-21T10").is_dir()
    assert half_written.is_dir()
    assert Customer.objects.count() == 12


def test_a_refused_batch_is_recorded_and_set_aside(demo_batch, tmp_path):
    drop = tmp_path / "drop"
    folder = copy_batch(demo_batch, drop / "b1")
    (folder / "manifest.json").write_text(json.dumps({"contract_version": 99}))

    runner.sync_run(source=FileDropSource(drop), clock=timezone.now)

    run = SyncRun.objects.get()
    assert run.status == SyncStatus.FAILED
    assert "contract version 99" in run.errors[0]["error"]
    assert (drop / "refused" / "b1").is_dir()


def test_a_batch_dropped_again_under_a_processed_name_is_moved_aside_and_later_batches_still_load(demo_batch, tmp_path):
    drop = tmp_path / "drop"
    copy_batch(demo_batch, drop / "processed" / "2026-11-21T10")  # loaded an hour ago
    copy_batch(demo_batch, drop / "2026-11-21T10")  # the billing system drops the same name again
    copy_batch(demo_batch, drop / "2026-11-21T11")

    runs = runner.sync_run(source=FileDropSource(drop), clock=timezone.now)
    next_hour = runner.sync_run(source=FileDropSource(drop), clock=timezone.now)

    assert [(run.source, run.status) for run in runs] == [
        ("files:2026-11-21T10", SyncStatus.SUCCEEDED),
        ("files:2026-11-21T11", SyncStatus.SUCCEEDED),
    ]
    assert next_hour == []
    assert sorted(path.name for path in drop.iterdir()) == ["processed"]
    assert sorted(path.name for path in (drop / "processed").iterdir()) == [
        "2026-11-21T10",
        "2026-11-21T10.2",
        "2026-11-21T11",
    ]


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_batch_pdfs_keep_their_names_when_a_load_killed_before_its_rows_runs_again(demo_batch, tmp_path, media):
    batch = shutil.copytree(demo_batch, tmp_path / "batch")
    added = add_invoice_pdfs(batch, every=3)
    services.batch_import(folder=batch, clock=timezone.now)
    first = stored_pdfs()
    # A kill after the files were stored and before the rows committed: the rows are gone, the files stay,
    # one of them cut short while it was written.
    Invoice.objects.all().delete()
    cut_short = sorted(first)[0]
    (media / cut_short).write_bytes(b"%PDF-1.4")

    services.batch_import(folder=batch, clock=timezone.now)

    assert len(first) == added
    assert stored_pdfs() == first
    assert set(Invoice.objects.exclude(pdf="").values_list("pdf", flat=True)) == set(first)
    invoice = Invoice.objects.exclude(pdf="").order_by("number").first()
    assert invoice.pdf.name == pdfs.pdf_name(invoice.number, invoice.pdf.read())


def test_the_sync_sweeps_away_pdfs_no_invoice_points_to(demo_batch, tmp_path, media):
    drop = tmp_path / "drop"
    batch = shutil.copytree(demo_batch, drop / "2026-11-21T10")
    add_invoice_pdfs(batch, every=4)
    left_behind = default_storage.save(f"{pdfs.FOLDER}/FV_1_11_2026-0123456789abcdef01234567.pdf", ContentFile(b"%PDF"))
    portal_render = default_storage.save("invoices/portal/2026/11/FV_1_11_2026.pdf", ContentFile(b"%PDF"))

    runner.sync_run(source=FileDropSource(drop), clock=timezone.now)

    assert not default_storage.exists(left_behind)
    assert default_storage.exists(portal_render)
    assert set(stored_pdfs()) == set(Invoice.objects.exclude(pdf="").values_list("pdf", flat=True))


def test_an_http_pull_loads_everything_then_only_what_changed(http_source, billing_system, demo_batch):
    runner.sync_run(source=http_source, clock=timezone.now)
    first = SyncRun.objects.get()
    customer = json.loads((demo_batch / "customers.jsonl").read_text(encoding="utf-8").splitlines()[3])
    changed = {**customer, "name": "Zofia Zmieniona", "changed_at": "2026-11-21T12:00:00+00:00"}
    billing_system.put("customers", changed)

    runner.sync_run(source=http_source, clock=timezone.now)

    second = SyncRun.objects.order_by("-id").first()
    assert first.counts["customers"]["created"] == 12
    assert second.cursor_to == "2026-11-21T12:00:00+00:00"
    assert second.counts["customers"] == {**second.counts["customers"], "read": 1, "updated": 1}
    assert sum(entity["read"] for entity in second.counts.values()) == 1
    assert Customer.objects.get(external_id=customer["id"]).name == "Zofia Zmieniona"


def test_a_second_pull_with_nothing_new_reads_nothing(http_source):
    runner.sync_run(source=http_source, clock=timezone.now)

    runner.sync_run(source=http_source, clock=timezone.now)

    assert SyncRun.objects.order_by("-id").first().total("read") == 0


def test_an_http_pull_gives_the_same_state_as_the_file_drop(http_source, demo_batch, tmp_path):
    runner.sync_run(source=FileDropSource(tmp_path / "drop"), clock=timezone.now)
    copy_batch(demo_batch, tmp_path / "drop" / "b1")
    runner.sync_run(source=FileDropSource(tmp_path / "drop"), clock=timezone.now)
    from_files = synced_state()
    Customer.objects.all().delete()

    runner.sync_run(source=http_source, clock=timezone.now)

    assert synced_state() == from_files


def test_one_customers_pull_brings_their_data_without_moving_the_cursor(http_source, demo_batch):
    customer_id = json.loads((demo_batch / "customers.jsonl").read_text(encoding="utf-8").splitlines()[0])["id"]
    customer = Customer.objects.create(
        external_id=customer_id,
        source_updated_at=datetime(1990, 1, 1, tzinfo=UTC),
        number="stale",
        kind="PERSON",
        name="Stale",
        street="x",
        building="1",
        postal_code="00-001",
        city="x",
    )

    runner.sync_run(source=http_source, clock=timezone.now, customer=customer)

    customer.refresh_from_db()
    assert customer.number != "stale"
    assert Invoice.objects.exclude(customer=customer).count() == 0
    assert Invoice.objects.filter(customer=customer).exists()
    assert runner.last_cursor(source_name="http") == ""


def test_an_unreachable_billing_system_is_recorded_as_a_failed_run_and_raises_the_alarm(tmp_path):
    source = HttpPullSource(url="http://127.0.0.1:9", token=TOKEN, work_dir=tmp_path, timeout=1)

    with pytest.raises(SourceUnavailable):
        runner.sync_run(source=source, clock=timezone.now)

    assert SyncRun.objects.get().status == SyncStatus.FAILED
    alarm = runner.sync_alarm_check(now=timezone.now())
    assert "failed" in alarm


def test_a_late_sync_raises_the_alarm_once(settings):
    settings.ADMINS = [("BOK", "bok@example.pl")]
    finished = timezone.now() - timedelta(hours=3)
    SyncRun.objects.create(started_at=finished, finished_at=finished, source="http", status=SyncStatus.SUCCEEDED)

    runner.sync_alarm_check(now=timezone.now())
    runner.sync_alarm_check(now=timezone.now())

    assert len(mail.outbox) == 1
    assert "late" in mail.outbox[0].body


@pytest.fixture
def other_worker_connection():
    """A second database session, as another worker would have."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        yield other


def wait_until_no_session_holds_the_sync_lock(seconds: float = 10) -> None:
    """The server ends a dead session's locks a moment after its connection closes."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Advisory locks belong to a database: a sync of another database on the server holds its own.
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [SYNC_LOCK_KEY],
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError("the advisory lock of a closed session was never released")


def test_only_one_sync_runs_at_a_time(http_source, other_worker_connection):
    other_worker_connection.execute("SELECT pg_advisory_lock(%s)", [SYNC_LOCK_KEY])

    with pytest.raises(runner.SyncBusy):
        runner.sync_run(source=http_source, clock=timezone.now)

    assert not SyncRun.objects.exists()


class WaitingSource:
    """A source that holds its sync (and so the lock) until told to go on."""

    name = "files"

    def __init__(self):
        self.started, self.go_on = threading.Event(), threading.Event()

    def batches(self, *, cursor: str, customer_id: str | None = None):
        self.started.set()
        self.go_on.wait(30)
        return iter(())


def test_a_second_sync_that_finds_the_lock_held_logs_the_holders_run_id(http_source, caplog):
    holding = WaitingSource()

    def first_sync() -> None:
        try:
            runner.sync_run(source=holding, clock=timezone.now)
        finally:
            connection.close()

    caplog.set_level(logging.INFO, logger="billing.sync.runner")
    thread = threading.Thread(target=first_sync)
    thread.start()
    try:
        assert holding.started.wait(30)
        with pytest.raises(runner.SyncBusy) as busy:
            runner.sync_run(source=http_source, clock=timezone.now)
    finally:
        holding.go_on.set()
        thread.join(30)

    started = next(r for r in caplog.records if "started" in r.getMessage())
    holder_run_id = started.args[0]
    refused = next(r for r in caplog.records if "holds the lock" in r.getMessage())
    assert busy.value.holder == holder_run_id
    assert refused.levelno == logging.WARNING
    assert f"sync {holder_run_id} holds the lock" in refused.getMessage()


def test_the_lock_of_a_worker_that_died_is_free_again(http_source, other_worker_connection):
    other_worker_connection.execute("SELECT pg_advisory_lock(%s)", [SYNC_LOCK_KEY])
    other_worker_connection.close()  # the worker's connection dies with it
    wait_until_no_session_holds_the_sync_lock()

    runner.sync_run(source=http_source, clock=timezone.now)

    assert SyncRun.objects.get().status == SyncStatus.SUCCEEDED
    with sync_lock() as held:
        assert held


def test_a_run_left_running_by_a_dead_worker_is_closed_by_the_next(http_source):
    SyncRun.objects.create(started_at=timezone.now() - timedelta(minutes=30), source="http")

    runner.sync_run(source=http_source, clock=timezone.now)

    abandoned = SyncRun.objects.order_by("id").first()
    assert abandoned.status == SyncStatus.FAILED
    assert "abandoned" in abandoned.errors[0]["error"]


def test_on_demand_customer_syncs_are_throttled(customer, settings):
    settings.IBOK_BILLING_SOURCE = "files"

    first = services.customer_sync_request(customer=customer, now=timezone.now(), throttle_seconds=60)
    second = services.customer_sync_request(customer=customer, now=timezone.now(), throttle_seconds=60)

    assert (first, second) == (True, False)


def queue(customer_number: str, key: str) -> OutboxMessage:
    return core_services.outbox_put(
        now=timezone.now(), kind="reading", customer_number=customer_number, idempotency_key=key, payload=reading(key)
    )


def reading(reference: str) -> dict:
    """A self-reading's payload as the contract describes it (docs/billing-sync.md), of a meter billing lacks."""
    return {
        "portal_reference": reference, "meter_id": "M-none", "serial_number": "X1", "read_date": "2026-11-20",
        "value": "123.000", "source": "SELF", "submitted_at": "2026-11-20T10:00:00+01:00", "has_photo": False,
        "photo_check": "",
    }  # fmt: skip


def test_outbox_messages_are_retried_after_the_receiver_fails_and_booked_once(billing_system, settings):
    settings.IBOK_OUTBOX_TRANSPORT = "http"
    settings.IBOK_OUTBOX_URL = f"{billing_system.url}/v1/inbox"
    settings.IBOK_OUTBOX_TOKEN = TOKEN
    billing_system.fail_next_posts = 2
    message = queue("100001", "reading:abc")
    now = timezone.now()

    first = core_services.outbox_deliver_due(now=now)
    too_soon = core_services.outbox_deliver_due(now=now)
    second = core_services.outbox_deliver_due(now=now + timedelta(minutes=1))
    third = core_services.outbox_deliver_due(now=now + timedelta(minutes=4))

    message.refresh_from_db()
    assert (first["retry"], too_soon["retry"], second["retry"], third["delivered"]) == (1, 0, 1, 1)
    assert message.status == OutboxStatus.DELIVERED
    assert message.attempts == 3
    assert list(billing_system.inbox) == ["reading:abc"]


def test_the_receiver_books_a_resent_message_once(billing_system, settings):
    settings.IBOK_OUTBOX_TRANSPORT = "http"
    settings.IBOK_OUTBOX_URL = f"{billing_system.url}/v1/inbox"
    settings.IBOK_OUTBOX_TOKEN = TOKEN
    message = queue("100001", "payment:xyz")
    core_services.outbox_deliver_due(now=timezone.now())
    # A worker that died after sending and before recording sends the same message again.
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PENDING)

    core_services.outbox_deliver_due(now=timezone.now())

    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED
    assert billing_system.inbox_posts == 2
    assert len(billing_system.inbox) == 1


def test_a_customers_messages_leave_in_order_and_wait_behind_a_failing_one(billing_system, settings):
    settings.IBOK_OUTBOX_TRANSPORT = "http"
    settings.IBOK_OUTBOX_URL = f"{billing_system.url}/v1/inbox"
    settings.IBOK_OUTBOX_TOKEN = TOKEN
    billing_system.fail_next_posts = 1
    first = queue("100001", "a-1")
    second = queue("100001", "a-2")
    other = queue("100002", "b-1")
    now = timezone.now()

    core_services.outbox_deliver_due(now=now)  # a-1 fails; b-1 goes; a-2 waits behind a-1
    statuses = {m.idempotency_key: m.status for m in OutboxMessage.objects.all()}
    core_services.outbox_deliver_due(now=now + timedelta(minutes=5))
    core_services.outbox_deliver_due(now=now + timedelta(minutes=5))

    assert statuses == {"a-1": OutboxStatus.PENDING, "a-2": OutboxStatus.PENDING, "b-1": OutboxStatus.DELIVERED}
    assert list(billing_system.inbox) == ["b-1", "a-1", "a-2"]
    assert {first.pk, second.pk, other.pk} == set(OutboxMessage.objects.values_list("pk", flat=True))


def test_a_message_the_receiver_never_takes_ends_failed_for_staff(settings):
    settings.IBOK_OUTBOX_TRANSPORT = "http"
    settings.IBOK_OUTBOX_URL = "http://127.0.0.1:9/v1/inbox"
    settings.IBOK_OUTBOX_MAX_ATTEMPTS = 2
    message = queue("100001", "k")
    now = timezone.now()

    core_services.outbox_deliver_due(now=now)
    core_services.outbox_deliver_due(now=now + timedelta(hours=1))

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.last_error


def test_the_file_transport_writes_one_whole_file_per_message(settings, tmp_path):
    settings.IBOK_OUTBOX_TRANSPORT = "files"
    settings.IBOK_OUTBOX_DIR = tmp_path
    queue("100001", "reading:1")

    core_services.outbox_deliver_due(now=timezone.now())

    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text())["idempotency_key"] == "reading:1"


def test_a_self_reading_the_billing_system_books_stops_being_pending_after_the_sync(http_source, billing_system):
    from meters.models import Meter, Reading, ReadingSource, ReadingStatus

    runner.sync_run(source=http_source, clock=timezone.now)
    meter = Meter.objects.filter(removed_date__isnull=True).order_by("id").first()
    pending = Reading.objects.create(
        meter=meter,
        read_date=date(2026, 11, 21),
        value=Decimal("99999.000"),
        source=ReadingSource.SELF,
        status=ReadingStatus.PENDING,
        portal_reference="SR-20261121-TEST",
    )
    billing_system.put(
        "readings",
        {
            "id": "R-BOOKED-1",
            "changed_at": "2026-11-21T12:00:00+00:00",
            "meter_id": meter.external_id,
            "read_date": "2026-11-21",
            "value": "99999.000",
            "source": "SELF",
            "portal_reference": "SR-20261121-TEST",
        },
    )

    runner.sync_run(source=http_source, clock=timezone.now)

    assert not Reading.objects.filter(pk=pending.pk).exists()
    booked = Reading.objects.get(portal_reference="SR-20261121-TEST")
    assert (booked.external_id, booked.status) == ("R-BOOKED-1", ReadingStatus.CONFIRMED)


def test_an_activated_account_has_its_customer_synced_at_once(
    customer, customer_user, demo_batch, settings, tmp_path, django_capture_on_commit_callbacks
):
    from accounts.signals import account_activated

    settings.IBOK_BILLING_SOURCE = "files"
    settings.IBOK_BILLING_DROP_DIR = tmp_path / "drop"
    copy_batch(demo_batch, tmp_path / "drop" / "b1")

    with django_capture_on_commit_callbacks(execute=True):  # the sync is queued with the activation's commit
        account_activated.send(sender=type(customer_user), user=customer_user, customer_ids=[customer.pk])

    assert SyncRun.objects.get().status == SyncStatus.SUCCEEDED
    assert (tmp_path / "drop" / "processed" / "b1").is_dir()
