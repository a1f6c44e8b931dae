"""The health page: staff only, JSON with one entry per dependency."""

import pytest
from django.urls import reverse

from tests import factories

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
    assert set(body["checks"]) == {"database", "cache", "broker", "last_sync"}
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
