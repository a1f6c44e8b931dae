"""Invoice e-mails sent by a real Celery worker across sync runs: one e-mail with the right PDF per new invoice.

The worker runs `celery -A ibok worker` against the test database and the demo billing server; it writes the
e-mails it sends as files (Django's file-based backend), which the test parses.
"""

import json
import os
import subprocess
import time
import uuid
from datetime import UTC, date, datetime
from email.message import Message
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection

from accounts.models import Customer
from billing import tasks as billing_tasks
from billing.models import Invoice, SyncRun, SyncStatus
from demo import batch as demo
from demo.server import DemoBillingSystem, serve
from einvoice import services
from einvoice import tasks as einvoice_tasks
from einvoice.models import ConsentStatus, Delivery, DeliveryStatus
from ibok.celery import app as celery_app
from tests import factories
from tests.worker import Worker, sent_messages, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TOKEN = "einvoice-worker-token"
CONSENT_START = datetime(2026, 11, 15, 8, 0, tzinfo=UTC)  # after the whole history of the demo batch


@pytest.fixture
def media_root(settings):
    """The worker process stores PDFs under the test settings' MEDIA_ROOT; this test reads them from there."""
    return settings.MEDIA_ROOT


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("einvoice-worker") / "batch"
    demo.write_demo_batch(folder, customers=6, seed=5, years=2, today=date(2026, 11, 10))
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
def mailbox(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def worker(billing_system, mailbox):
    """A worker on a queue of its own that also queues its follow-up tasks there, sending e-mails as files."""
    queue = f"ibok-einvoice-{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ibok.test_settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "IBOK_CELERY_EAGER": "0",
        "IBOK_CELERY_QUEUE": queue,
        "IBOK_BILLING_SOURCE": "http",
        "IBOK_BILLING_URL": billing_system.url,
        "IBOK_BILLING_TOKEN": TOKEN,
        "IBOK_OUTBOX_TRANSPORT": "http",
        "IBOK_OUTBOX_URL": f"{billing_system.url}/v1/inbox",
        "IBOK_OUTBOX_TOKEN": TOKEN,
        "IBOK_TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mailbox),
        "IBOK_PORTAL_URL": "https://ibok.example.pl",
    }
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    started = Worker(queue, env).start()
    yield started
    started.stop()
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous


def sync_through_worker() -> SyncRun:
    newest = SyncRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
    billing_tasks.billing_sync.delay()
    return wait_for(
        lambda: SyncRun.objects.filter(id__gt=newest).exclude(status=SyncStatus.RUNNING).order_by("-id").first(),
        what="the sync run to finish",
    )


def pdf_of(message: Message) -> tuple[str, bytes]:
    [part] = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    return part.get_filename(), part.get_payload(decode=True)


def text_of(message: Message) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout


def new_invoice(template: dict, *, number: str, issued: str, changed_at: str) -> dict:
    """A new invoice of the same customer and point, as the billing system would issue it."""
    return {
        **{key: value for key, value in template.items() if not key.startswith("ksef_")},  # not an offline one
        "id": f"F-NEW-{number.replace('/', '-')}",
        "number": number,
        "issue_date": issued,
        "due_date": "2026-12-15",
        "changed_at": changed_at,
        "ksef_number": "",
        "ksef_hash": "",
    }


def owner_of(customer, *, email: str):
    user = factories.UserFactory(username=customer.number, email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer)
    return user


def emails_settled(expected: int):
    """True once `expected` deliveries are sent and none waits."""
    if Delivery.objects.exclude(status=DeliveryStatus.SENT).exists():
        return False
    return Delivery.objects.filter(status=DeliveryStatus.SENT).count() == expected


def test_each_new_invoice_is_emailed_once_with_its_pdf_across_two_sync_runs(
    worker, billing_system, demo_batch, mailbox, tmp_path, terms
):
    history = sync_through_worker()
    template = json.loads((demo_batch / "invoices.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    customer = Customer.objects.get(external_id=template["customer_id"])
    old_invoices = Invoice.objects.filter(customer=customer).count()
    owner = owner_of(customer, email="faktury@example.pl")
    consent = services.consent_request(
        customer=customer,
        user=owner,
        email=owner.email,
        terms=terms,
        now=CONSENT_START,
        ip_address="192.0.2.1",
        base_url="https://ibok.example.pl/",
    )

    # Run 1 after the consent: two new invoices of this customer, one of another customer.
    billing_system.put(
        "invoices",
        new_invoice(template, number="FV/2026/11/900001", issued="2026-11-16", changed_at="2026-11-16T07:00:00+00:00"),
    )
    billing_system.put(
        "invoices",
        new_invoice(template, number="FV/2026/11/900002", issued="2026-11-17", changed_at="2026-11-17T07:00:00+00:00"),
    )
    other = json.loads(
        next(
            line
            for line in (demo_batch / "invoices.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(line)["customer_id"] != template["customer_id"]
        )
    )
    billing_system.put(
        "invoices",
        new_invoice(other, number="FV/2026/11/900003", issued="2026-11-17", changed_at="2026-11-17T07:05:00+00:00"),
    )
    first = sync_through_worker()
    wait_for(lambda: emails_settled(2), what="two e-mails")
    # The sweep, twice and through the worker, finds nothing more (the history stays unsent).
    einvoice_tasks.einvoice_sweep.delay()
    einvoice_tasks.einvoice_sweep.delay()
    # Run 2: one more new invoice, and a change (a payment) of one already e-mailed.
    billing_system.put(
        "invoices",
        new_invoice(template, number="FV/2026/11/900004", issued="2026-11-20", changed_at="2026-11-20T07:00:00+00:00"),
    )
    paid = new_invoice(
        template, number="FV/2026/11/900001", issued="2026-11-16", changed_at="2026-11-21T07:00:00+00:00"
    )
    billing_system.put("invoices", {**paid, "outstanding": "0.00"})
    second = sync_through_worker()
    wait_for(lambda: emails_settled(3), what="the third e-mail")
    einvoice_tasks.einvoice_sweep.delay()
    time.sleep(2)  # room for a wrong extra e-mail to be written

    messages = sent_messages(mailbox)
    assert (history.status, first.status, second.status) == (SyncStatus.SUCCEEDED,) * 3
    assert old_invoices > 5
    assert consent.status == ConsentStatus.ACTIVE
    assert sorted(m["To"] for m in messages) == ["faktury@example.pl"] * 3
    numbers = sorted(pdf_of(m)[0] for m in messages)
    assert numbers == ["FV_2026_11_900001.pdf", "FV_2026_11_900002.pdf", "FV_2026_11_900004.pdf"]
    for message in messages:
        filename, content = pdf_of(message)
        invoice = Invoice.objects.get(number=filename.removesuffix(".pdf").replace("_", "/"))
        assert invoice.customer == customer
        assert invoice.number in message["Subject"]
        assert content == invoice.pdf.open("rb").read()
        assert invoice.number in pdf_text(content, tmp_path)
        assert f"https://ibok.example.pl/billing/invoices/{invoice.pk}/" in text_of(message)
    assert Delivery.objects.count() == 3
