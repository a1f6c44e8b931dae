"""The health page: staff only, JSON with one entry per dependency."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import services as core_services
from core.models import OutboxMessage, QueuedTask
from tests import factories
from tests.outbox_contract import documented_examples

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_the_admin_login(client):
    response = client.get(reverse("pages:health"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_customer_is_not_let_in(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("pages:health"))

    assert response.status_code in {302, 403}
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("admin:login"))


def test_staff_gets_every_check_as_json(client):
    staff = factories.UserFactory(username="bok.kowalska", is_staff=True)
    factories.SyncRunFactory()
    client.force_login(staff)

    response = client.get(reverse("pages:health"))

    body = response.json()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert set(body["checks"]) == {"database", "cache", "broker", "heartbeat", "outbox", "last_sync"}
    assert body["ok"] is True
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["detail"] == "postgresql"


def test_staff_sees_an_alarm_when_no_sync_has_ever_succeeded(client):
    staff = factories.UserFactory(username="bok.nowak", is_staff=True)
    factories.SyncRunFactory(status="FAILED")
    client.force_login(staff)

    response = client.get(reverse("pages:health"))

    body = response.json()
    assert response.status_code == 503
    assert body["ok"] is False
    assert body["checks"]["last_sync"] == {"ok": False, "detail": "never"}


def test_readiness_says_only_yes_or_no_to_anyone(client):
    response = client.get("/health/ready/")

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


def test_readiness_answers_a_probe_at_the_pods_own_address_over_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["ebok.example.pl"]

    response = client.get("/health/ready/", HTTP_HOST="10.42.0.17:8000")

    assert response.status_code == 200
    assert client.get("/", HTTP_HOST="10.42.0.17:8000").status_code == 400  # everything else still checks the host


@pytest.mark.django_db(transaction=True)  # outside a test transaction the connection really closes and reopens
def test_readiness_fails_when_the_database_does_not_answer(client, monkeypatch):
    from django.db import connection

    # The database really refuses: the connection points at a port where nothing listens.
    assert client.get("/health/ready/").status_code == 200
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")
    response = client.get("/health/ready/")
    monkeypatch.undo()
    connection.close()

    assert response.status_code == 503
    assert response.content == b"unavailable\n"


@pytest.fixture
def staff_client(client):
    client.force_login(factories.UserFactory(username="bok.health", is_staff=True))
    return client


@pytest.fixture
def with_broker(settings):
    """As in production: tasks go to the real Redis broker (REDIS_URL) instead of running in-process."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_the_heartbeat_turns_red_when_no_worker_consumed_it_for_five_minutes_though_the_broker_answers(
    staff_client, with_broker
):
    factories.SyncRunFactory()
    core_services.heartbeat_record(name="celery", now=timezone.now() - timedelta(minutes=6))

    stale = staff_client.get(reverse("pages:health"))
    core_services.heartbeat_record(name="celery", now=timezone.now() - timedelta(minutes=1))
    fresh = staff_client.get(reverse("pages:health"))

    assert stale.status_code == 503
    assert stale.json()["checks"]["broker"] == {"ok": True, "detail": "redis"}
    assert stale.json()["checks"]["heartbeat"]["ok"] is False
    assert fresh.status_code == 200
    assert fresh.json()["checks"]["heartbeat"]["ok"] is True


def test_a_heartbeat_never_seen_is_red(staff_client, with_broker):
    factories.SyncRunFactory()

    response = staff_client.get(reverse("pages:health"))

    assert response.status_code == 503
    heartbeat = response.json()["checks"]["heartbeat"]
    assert heartbeat == {"ok": False, "detail": "RuntimeError: no task consumed since ever"}


def test_a_task_waiting_in_the_outbox_for_more_than_ten_minutes_turns_the_health_red(staff_client):
    factories.SyncRunFactory()
    now = timezone.now()
    QueuedTask.objects.create(created_at=now - timedelta(minutes=9), task="accounts.email_send", kwargs={})

    recent = staff_client.get(reverse("pages:health"))
    QueuedTask.objects.create(created_at=now - timedelta(minutes=11), task="accounts.email_send", kwargs={})
    old = staff_client.get(reverse("pages:health"))
    QueuedTask.objects.update(relayed_at=now)
    relayed = staff_client.get(reverse("pages:health"))

    assert recent.status_code == 200
    assert old.status_code == 503
    assert old.json()["checks"]["outbox"]["ok"] is False
    assert "2 task(s) waiting, oldest 66" in old.json()["checks"]["outbox"]["detail"]  # 660 s and a moment
    assert relayed.status_code == 200


def test_a_message_to_billing_undelivered_for_more_than_ten_minutes_turns_the_health_red(staff_client):
    factories.SyncRunFactory()
    core_services.outbox_put(
        now=timezone.now() - timedelta(minutes=11),
        kind="contact_change",
        customer_number="100520",
        idempotency_key="health-1",
        payload=documented_examples()["contact_change"],
    )

    waiting = staff_client.get(reverse("pages:health"))
    OutboxMessage.objects.update(status="DELIVERED")
    delivered = staff_client.get(reverse("pages:health"))

    assert waiting.status_code == 503
    assert "1 message(s) to billing waiting" in waiting.json()["checks"]["outbox"]["detail"]
    assert delivered.status_code == 200


def test_the_last_sync_turns_red_when_older_than_twice_its_interval(staff_client, settings):
    settings.IBOK_SYNC_INTERVAL_MINUTES = 60
    factories.SyncRunFactory(finished_at=timezone.now() - timedelta(minutes=119))

    within = staff_client.get(reverse("pages:health"))
    settings.IBOK_SYNC_INTERVAL_MINUTES = 30
    beyond = staff_client.get(reverse("pages:health"))

    assert within.status_code == 200
    assert beyond.status_code == 503
    assert beyond.json()["checks"]["last_sync"]["ok"] is False
