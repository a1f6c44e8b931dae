"""Notifications sent by real Celery worker processes over real Redis and PostgreSQL.

E-mail goes to files (the worker's EMAIL_FILE_PATH), SMS to the local backend's table; both are read here.
"""

import email
import email.policy
import os
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from ibok.celery import app as celery_app
from notices import services, tasks
from notices.models import Channel, Kind, LocalSms, Notification, NotificationStatus
from tests import factories
from tests.notices.conftest import login_user_for, switch_on, verify_phone
from tests.worker import Worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HOUSEHOLDS = 30


@pytest.fixture
def mailbox(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


class Workers:
    """Workers of this test, each on a queue of its own; the tasks a worker queues itself stay on its queue
    (IBOK_CELERY_QUEUE, ibok/test_settings.py). Tasks queued by the test go to the first one unless told."""

    def __init__(self, mailbox: Path):
        self.mailbox = mailbox
        self.started: list[Worker] = []

    def start(self, **extra_env: str) -> Worker:
        queue = f"ibok-test-notices-{uuid.uuid4().hex[:8]}"
        database = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.notices.worker_settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "IBOK_CELERY_EAGER": "0",
            "IBOK_CELERY_QUEUE": queue,
            "EMAIL_FILE_PATH": str(self.mailbox),
            "IBOK_SMS_BACKEND": "notices.sms.LocalBackend",
            "IBOK_NOTIFY_RETRY_SECONDS": "1",
            "IBOK_NOTIFY_MAX_ATTEMPTS": "3",
            **extra_env,
        }
        worker = Worker(queue, env).start()
        self.started.append(worker)
        return worker

    def run_reminders(self, worker: Worker | None = None) -> None:
        tasks.reminders_run.apply_async(queue=(worker or self.started[0]).queue)


@pytest.fixture
def workers(mailbox):
    pool = Workers(mailbox)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield pool
    celery_app.conf.task_always_eager = previous
    for worker in pool.started:
        worker.stop()


def emails(mailbox: Path) -> list[tuple[str, str]]:
    """(To, Subject) of every message the workers wrote; the file backend separates messages with dashes."""
    found = []
    for path in mailbox.glob("*.log"):
        for chunk in path.read_text(encoding="utf-8").split("-" * 79):
            if chunk.strip():
                message = email.message_from_string(chunk.lstrip("\n"), policy=email.policy.default)
                found.append((str(message["To"]), str(message["Subject"])))
    return found


def settled() -> bool:
    return not Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]).exists()


def households_with_reminders_due(count: int) -> int:
    """`count` customers, each with an invoice due in two days, a contract ending in 20 and a meter to legalize
    in 10; each login wants all three by e-mail and SMS. Returns how many messages that makes."""
    today = timezone.localdate()
    for n in range(count):
        point = factories.DeliveryPointFactory(
            customer__number=f"30{n:04d}", contract__valid_until=today + timedelta(days=20)
        )
        factories.InvoiceFactory(customer=point.customer, delivery_point=point, due_date=today + timedelta(days=2))
        factories.MeterFactory(delivery_point=point, legalization_valid_until=today + timedelta(days=10))
        user = login_user_for(point.customer)
        switch_on(user, Kind.PAYMENT_DUE, Kind.CONTRACT_END, Kind.LEGALIZATION, channels=(Channel.EMAIL, Channel.SMS))
        verify_phone(user, phone=f"+4860100{n:04d}")
    return count * 3 * 2


def tasks_run_by(worker: Worker) -> dict[str, int]:
    """How many tasks of each name the worker took. A solo-pool worker answers only between tasks."""
    inspect = celery_app.control.inspect(destination=[f"{worker.queue}@{os.uname().nodename}"], timeout=1)
    stats = inspect.stats()
    active = inspect.active()
    if not stats or not active or any(active.values()):
        return {}
    return next(iter(stats.values()))["total"]


def test_two_concurrent_runs_of_the_reminder_job_send_each_message_once(workers, mailbox):
    expected = households_with_reminders_due(HOUSEHOLDS)
    first, second = workers.start(), workers.start()

    workers.run_reminders(first)
    workers.run_reminders(second)
    try:
        wait_for(lambda: Notification.objects.count() == expected and settled(), what="every message to be sent")
    except AssertionError as exc:
        counts = dict(Notification.objects.values_list("status").annotate(n=Count("id")).order_by())
        raise AssertionError(f"{exc}; notifications by status: {counts}, expected {expected}") from exc

    # Each worker ran the job once, side by side; the messages each created were sent from its own queue.
    assert tasks_run_by(first).get("notices.tasks.reminders_run") == 1
    assert tasks_run_by(second).get("notices.tasks.reminders_run") == 1
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == expected
    sent = emails(mailbox)
    assert len(sent) == expected // 2
    assert len(set(sent)) == len(sent)
    references = list(LocalSms.objects.values_list("reference", flat=True))
    assert len(references) == expected // 2
    assert len(set(references)) == len(references)


def test_a_failing_gateway_is_retried_with_backoff_and_then_reported_to_staff(workers, tmp_path, client):
    gateway_log = tmp_path / "gateway.log"
    point = factories.DeliveryPointFactory()
    factories.InvoiceFactory(customer=point.customer, due_date=timezone.localdate() + timedelta(days=1))
    user = login_user_for(point.customer)
    switch_on(user, Kind.PAYMENT_DUE, channels=(Channel.SMS,))
    verify_phone(user)
    workers.start(IBOK_SMS_BACKEND="tests.notices.gateways.DownGateway", GATEWAY_LOG=str(gateway_log))

    workers.run_reminders()
    notification = wait_for(
        lambda: Notification.objects.filter(status=NotificationStatus.FAILED).first(), what="the message to fail"
    )

    assert notification.attempts == 3
    assert "503 Service Unavailable" in notification.last_error
    attempts = [float(line.split()[0]) for line in gateway_log.read_text().splitlines()]
    assert len(attempts) == 3
    # 1 s, then 2 s between attempts (IBOK_NOTIFY_RETRY_SECONDS=1, doubled); the clock allows a little slack.
    assert attempts[1] - attempts[0] >= 0.9
    assert attempts[2] - attempts[1] >= 1.9
    assert LocalSms.objects.count() == 0
    staff = factories.UserFactory(username="bok", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(staff)
    failed = client.get(reverse("admin:notices_notification_changelist") + "?status=FAILED").content.decode()
    assert notification.recipient in failed


def test_turning_a_kind_off_stops_it(workers, mailbox):
    point = factories.DeliveryPointFactory()
    today = timezone.localdate()
    factories.InvoiceFactory(customer=point.customer, number="FV/1/11/2026", due_date=today + timedelta(days=1))
    user = login_user_for(point.customer)
    switch_on(user, Kind.PAYMENT_DUE)
    worker = workers.start()
    workers.run_reminders()
    wait_for(lambda: len(emails(mailbox)) == 1 and settled(), what="the first reminder")

    services.preferences_save(user=user, enabled=set(), now=timezone.now())
    factories.InvoiceFactory(
        customer=point.customer, number="FV/2/11/2026", due_date=today + timedelta(days=2), net=Decimal("80.00")
    )
    workers.run_reminders()
    workers.run_reminders()
    wait_for(
        lambda: tasks_run_by(worker).get("notices.tasks.reminders_run") == 3 and settled(),
        what="both runs to finish",
    )

    assert len(emails(mailbox)) == 1
    assert Notification.objects.count() == 1
