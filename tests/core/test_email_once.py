"""An e-mail is sent once (issue 17): a queued task run again (the relay handing the same row over twice, or a
retry after the mail was sent) does not send it again; a send that failed is sent by the retry; the keys are
purged after two weeks. Tasks run in-process (CELERY_TASK_ALWAYS_EAGER) through the real outbox and relay."""

from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.utils import timezone

from core import jobs
from core.emails import send_email
from core.models import QueuedTask, SentEmail
from core.tasks import sent_emails_purge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def portal_mail_backend(settings):
    """The portal's EMAIL_BACKEND (pytest-django swaps in locmem), sending on to locmem (IBOK_EMAIL_BACKEND)."""
    settings.EMAIL_BACKEND = "core.emails.CountingBackend"


class RelayDropsOnce(EmailBackend):
    """A mail server that drops the connection on the first message, then takes everything."""

    failures = 1

    def send_messages(self, messages):
        if RelayDropsOnce.failures:
            RelayDropsOnce.failures -= 1
            raise SMTPServerDisconnected("connection dropped")
        return super().send_messages(messages)


def queue_mail(django_capture_on_commit_callbacks, **fields) -> QueuedTask:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        return jobs.enqueue("accounts.email_send", to="jan@example.pl", subject="Reset hasła", text="Link", **fields)


def test_a_row_handed_over_twice_sends_its_email_once(django_capture_on_commit_callbacks):
    row = queue_mail(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1  # the kick after commit ran the task
    row.refresh_from_db()
    assert row.relayed_at is not None

    jobs._hand_over(row)  # the relay died before stamping the row and hands it over again
    jobs._hand_over(row)

    assert len(mail.outbox) == 1
    assert list(SentEmail.objects.values_list("key", flat=True)) == [f"{jobs.queued_task_id(row.pk)}:0"]


def test_two_rows_with_the_same_content_are_two_emails(django_capture_on_commit_callbacks):
    queue_mail(django_capture_on_commit_callbacks)
    queue_mail(django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2 and SentEmail.objects.count() == 2


def test_a_send_that_failed_is_sent_by_the_retry_once(settings, django_capture_on_commit_callbacks):
    settings.IBOK_EMAIL_BACKEND = f"{__name__}.RelayDropsOnce"
    RelayDropsOnce.failures = 1

    with pytest.raises(Retry):  # in-process, Celery hands the retry back instead of sleeping
        queue_mail(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 0 and not SentEmail.objects.exists()  # the key went with the failed send
    row = QueuedTask.objects.get()

    jobs._hand_over(row)  # the retry, under the same task id
    jobs._hand_over(row)  # and once more

    assert len(mail.outbox) == 1
    assert SentEmail.objects.count() == 1


def test_an_email_outside_a_queued_task_is_not_keyed():
    send_email(to="jan@example.pl", subject="Test", text="Treść")

    assert len(mail.outbox) == 1 and not SentEmail.objects.exists()


def test_the_daily_purge_forgets_keys_older_than_two_weeks():
    now = timezone.now()
    SentEmail.objects.create(key="queued-1:0", sent_at=now - timedelta(days=15))
    SentEmail.objects.create(key="queued-2:0", sent_at=now - timedelta(days=13))

    assert sent_emails_purge.delay().get() == 1

    assert list(SentEmail.objects.values_list("key", flat=True)) == ["queued-2:0"]
