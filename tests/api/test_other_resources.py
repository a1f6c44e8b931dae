"""e-Invoices, notification preferences, documents and announcements over the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import OutboxMessage
from einvoice.models import Consent, ConsentStatus
from notices.models import Announcement, NotificationPreference
from tests.einvoice.conftest import published_terms

pytestmark = pytest.mark.django_db


def test_einvoices_switch_on_and_off_through_the_pages_service(world, as_user):
    published_terms()
    a = world.a
    client = as_user(a.owner, can_write=True)

    on = client.post(
        f"/api/v1/customers/{a.customer.pk}/einvoice",
        {"email": a.owner.email, "accept_terms": True},  # the account's verified address: active at once
        content_type="application/json",
    )
    assert on.status_code == 201, on.content
    assert on.json()["status"] == "ACTIVE"
    consent = Consent.objects.get(customer=a.customer)
    assert consent.status == ConsentStatus.ACTIVE and consent.case_id  # the page's case for the office
    assert OutboxMessage.objects.filter(customer_number=a.customer.number, kind="einvoice_consent").count() == 1

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    off = client.post(
        f"/api/v1/customers/{a.customer.pk}/einvoice/resignation",
        {"paper_from": tomorrow},
        content_type="application/json",
    )
    assert off.status_code == 200, off.content
    assert off.json()["status"] == "ENDED" and off.json()["paper_from"] == tomorrow
    assert OutboxMessage.objects.filter(customer_number=a.customer.number, kind="einvoice_consent").count() == 2
    states = client.get("/api/v1/einvoice").json()
    assert [s["status"] for s in states] == ["ENDED"]


def test_the_terms_must_be_accepted(world, as_user):
    published_terms()
    response = as_user(world.a.owner, can_write=True, HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/customers/{world.a.customer.pk}/einvoice",
        {"email": world.a.owner.email, "accept_terms": False},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["accept_terms"]
    assert not Consent.objects.exists()


def test_a_partial_manager_may_not_switch_einvoices(world, as_user):
    published_terms()
    response = as_user(world.partial_manager, can_write=True, HTTP_ACCEPT_LANGUAGE="pl").post(
        f"/api/v1/customers/{world.a.customer.pk}/einvoice",
        {"email": "zarzadca@example.pl", "accept_terms": True},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Tylko")
    assert not Consent.objects.exists()
    [state] = as_user(world.partial_manager).get("/api/v1/einvoice").json()
    assert state["may_switch"] is False


def test_notification_preferences_are_read_and_replaced(world, as_user):
    client = as_user(world.a.owner, can_write=True)

    saved = client.post(
        "/api/v1/notification-preferences",
        {"enabled": [{"kind": "NEW_INVOICE", "channel": "EMAIL"}, {"kind": "OUTAGE", "channel": "EMAIL"}]},
        content_type="application/json",
    ).json()

    on = {(p["kind"], p["channel"]) for p in saved["preferences"] if p["enabled"]}
    assert on == {("NEW_INVOICE", "EMAIL"), ("OUTAGE", "EMAIL")}
    assert (
        set(NotificationPreference.objects.filter(user=world.a.owner, enabled=True).values_list("kind", "channel"))
        == on
    )
    assert client.get("/api/v1/notification-preferences").json() == saved


def test_a_read_only_token_changes_no_preference(world, as_user):
    response = as_user(world.a.owner).post(
        "/api/v1/notification-preferences",
        {"enabled": [{"kind": "OUTAGE", "channel": "SMS"}]},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not NotificationPreference.objects.filter(user=world.a.owner, enabled=True).exists()


def test_documents_follow_the_pages_rule(world, as_user):
    owner = as_user(world.a.owner).get("/api/v1/documents").json()["results"]
    partial = as_user(world.partial_manager).get("/api/v1/documents").json()["results"]

    assert [d["id"] for d in owner] == [world.a.document.pk]
    assert partial == []  # a customer's own documents go to those who act as the customer
    download = as_user(world.a.owner).get(owner[0]["url"])
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert as_user(world.partial_manager).get(owner[0]["url"]).status_code == 404


def test_announcements_are_public_and_filtered_by_city(db):
    from django.test import Client

    now = timezone.now()
    common = {"body": "Treść", "starts_at": now - timedelta(hours=1), "published": True, "created_at": now}
    Announcement.objects.create(title="Awaria w Przemyślu", city="Przemyśl", **common)
    Announcement.objects.create(title="Dla wszystkich", city="", **common)
    Announcement.objects.create(title="Awaria w Krasiczynie", city="Krasiczyn", **common)
    Announcement.objects.create(title="Jeszcze nie", city="", **{**common, "published": False})

    everyone = Client().get("/api/v1/announcements").json()
    przemysl = Client().get("/api/v1/announcements", {"city": "przemyśl"}).json()

    assert {a["title"] for a in everyone["results"]} == {"Awaria w Przemyślu", "Dla wszystkich", "Awaria w Krasiczynie"}
    assert {a["title"] for a in przemysl["results"]} == {"Awaria w Przemyślu", "Dla wszystkich"}
    assert everyone["results"][0]["starts_at"].endswith(("+01:00", "+02:00"))
