"""/metrics: Prometheus text for staff or a scraper's token; request latency by view, the outbox, the sync lag,
e-mails sent and failed, task failures."""

import re
from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from celery import shared_task
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.emails import send_email
from core.models import QueuedTask
from tests import factories

pytestmark = pytest.mark.django_db


def metric(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in the exposition text (labels as written, e.g. 'kind="task"')."""
    pattern = rf"^{re.escape(name)}{{{re.escape(labels)}}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name}{{{labels}}} not in the metrics"
    return float(found.group(1))


@pytest.fixture
def staff_client(client):
    client.force_login(factories.UserFactory(username="bok.metrics", is_staff=True))
    return client


def test_a_scraper_with_the_token_gets_the_metrics_and_without_it_nothing(client, settings):
    settings.IBOK_METRICS_TOKEN = "scrape-token-0123456789"

    with_token = client.get(reverse("pages:metrics"), headers={"Authorization": "Bearer scrape-token-0123456789"})
    wrong_token = client.get(reverse("pages:metrics"), headers={"Authorization": "Bearer guess"})
    no_token = client.get(reverse("pages:metrics"))

    assert with_token.status_code == 200
    assert with_token["Content-Type"].startswith("text/plain")
    assert (wrong_token.status_code, no_token.status_code) == (403, 403)


def test_no_token_is_configured_so_a_bearer_header_alone_is_not_enough(client, settings):
    settings.IBOK_METRICS_TOKEN = ""

    response = client.get(reverse("pages:metrics"), headers={"Authorization": "Bearer "})

    assert response.status_code == 403


def test_a_customer_is_refused(client, customer_user):
    client.force_login(customer_user)

    assert client.get(reverse("pages:metrics")).status_code == 403


def test_request_latency_is_counted_by_view(staff_client):
    staff_client.get(reverse("pages:accessibility"))
    staff_client.get(reverse("pages:accessibility"))

    text = staff_client.get(reverse("pages:metrics")).content.decode()

    assert metric(text, "ibok_request_duration_seconds_count", 'method="GET",view="pages:accessibility"') >= 2
    bucket = 'le="10.0",method="GET",view="pages:accessibility"'
    assert metric(text, "ibok_request_duration_seconds_bucket", bucket) >= 2


def test_outbox_depth_and_age_and_the_sync_lag(staff_client):
    now = timezone.now()
    factories.SyncRunFactory(finished_at=now - timedelta(minutes=30))
    QueuedTask.objects.create(created_at=now - timedelta(minutes=3), task="accounts.email_send", kwargs={})
    QueuedTask.objects.create(created_at=now - timedelta(minutes=1), task="accounts.email_send", kwargs={})
    QueuedTask.objects.create(created_at=now - timedelta(hours=1), task="accounts.email_send", relayed_at=now)

    text = staff_client.get(reverse("pages:metrics")).content.decode()

    assert metric(text, "ibok_outbox_depth", 'kind="task"') == 2
    assert 180 <= metric(text, "ibok_outbox_oldest_age_seconds", 'kind="task"') < 240
    assert metric(text, "ibok_outbox_depth", 'kind="billing_message"') == 0
    assert 1800 <= metric(text, "ibok_sync_lag_seconds") < 1860


def test_emails_sent_and_failed_are_counted(staff_client, settings):
    settings.EMAIL_BACKEND = "core.emails.CountingBackend"  # as configured; pytest-django puts locmem in its place
    send_email(to="anna.nowak@example.pl", subject="Test", text="Treść")
    settings.IBOK_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there: the send fails for real
    with pytest.raises(OSError):
        send_email(to="jan.kowalski@example.pl", subject="Test", text="Treść")

    text = staff_client.get(reverse("pages:metrics")).content.decode()

    assert len(mail.outbox) == 1
    assert metric(text, "ibok_emails_sent_total") == 1
    assert metric(text, "ibok_emails_failed_total") == 1


@shared_task
def always_fails() -> None:
    raise SMTPServerDisconnected("the mail server went away")


def test_task_failures_are_counted_by_task(staff_client):
    result = always_fails.apply(throw=False)  # as a worker runs it: the failure is recorded, not raised

    text = staff_client.get(reverse("pages:metrics")).content.decode()

    assert result.failed()
    assert metric(text, "ibok_task_failures_total", f'task="{always_fails.name}"') == 1
