"""Registration while the broker (a Redis of the test's own) is down: the page answers as usual, the e-mail waits
in the outbox, committed with the registration, and goes out once, through a real worker, when Redis is back.

The worker runs Celery beat inside it, with the relay every second and the heartbeat every second, as production
runs them every minute.
"""

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from accounts.models import Registration
from core.models import Heartbeat, QueuedTask
from tests.redis_server import RedisServer, celery_broker
from tests.worker import Worker, sent_messages, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def worker(own_redis, mailbox, tmp_path):
    """A worker with beat inside, whose broker is the test's own Redis (the cache stays on the shared one)."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ibok.test_settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "IBOK_BROKER_URL": own_redis.url,
        "IBOK_CELERY_EAGER": "0",
        "IBOK_CELERY_QUEUE": "celery",
        "IBOK_OUTBOX_RELAY_SECONDS": "1",
        "IBOK_HEARTBEAT_SECONDS": "1",
        "IBOK_TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mailbox),
    }
    with celery_broker(own_redis.url):
        worker = Worker("celery", env, beat_schedule=tmp_path / "beat-schedule").start()
        yield worker
        worker.stop()


def test_registration_with_the_broker_down_answers_and_its_email_goes_once_when_redis_is_back(
    client, invoiced_customer, registration_form, worker, own_redis, mailbox
):
    wait_for(Heartbeat.objects.exists, seconds=60, what="the worker to consume beat's heartbeat")
    own_redis.stop()

    started = time.monotonic()
    response = client.post(reverse("accounts:register"), registration_form)
    answered_in = time.monotonic() - started
    registration = Registration.objects.get()
    queued = QueuedTask.objects.get(task="accounts.registration_email_send")
    time.sleep(3)  # beat and the worker keep trying meanwhile
    sent_while_down = sent_messages(mailbox)

    own_redis.start()
    wait_for(lambda: sent_messages(mailbox), seconds=120, what="the verification e-mail")
    wait_for(lambda: QueuedTask.objects.filter(pk=queued.pk, relayed_at__isnull=False).exists(), what="the stamp")
    time.sleep(4)  # several more relay rounds: nothing is sent again
    sent = sent_messages(mailbox)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register-sent")
    assert answered_in < 3
    assert queued.relayed_at is None  # committed with the registration, waiting
    assert queued.kwargs == {"registration_id": registration.pk, "base_url": "http://testserver/"}
    assert sent_while_down == []
    assert len(sent) == 1
    assert sent[0]["To"] == "anna.nowa@example.pl"
    assert "/register/confirm/" in sent[0].get_payload()[0].get_payload(decode=True).decode()
    assert Registration.objects.get(pk=registration.pk).email_sent_at is not None
    assert QueuedTask.objects.filter(relayed_at__isnull=True).count() == 0
