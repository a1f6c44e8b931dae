"""Settlements, payments, transfer details, online payments and the conditional GETs, over HTTP with tokens."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from billing import qr
from billing.models import OnlinePayment
from core import versions
from tests import factories
from tests.api.conftest import bearer, make_token
from tests.billing.conftest import registration_from_redirect, signed_notification

pytestmark = pytest.mark.django_db


def test_settlements_are_the_pages_ledger_for_the_period(world, as_user):
    a = world.a
    page = Client()
    page.force_login(a.owner)
    period = {"date_from": "2020-01-01", "date_to": timezone.localdate().isoformat()}

    body = as_user(a.owner).get(f"/api/v1/customers/{a.customer.pk}/settlements", period).json()
    csv = page.get(reverse("billing:settlements-csv"), period).getvalue().decode("utf-8-sig")

    rows = [line.split(";") for line in csv.strip().splitlines()[2:-1]]  # between the opening and the closing
    assert [(e["document"], e["balance"]["amount"].replace(".", ",")) for e in body["entries"]] == [
        (row[1], row[5]) for row in rows
    ]
    assert {a.invoices[0].number, a.invoices[1].number} <= {e["document"] for e in body["entries"]}
    assert csv.strip().splitlines()[-1].endswith(body["closing"]["amount"].replace(".", ","))
    assert body["partial"] is False


def test_a_partial_manager_gets_the_ledger_of_their_point_only(world, as_user):
    body = (
        as_user(world.partial_manager)
        .get(f"/api/v1/customers/{world.a.customer.pk}/settlements", {"date_from": "2020-01-01"})
        .json()
    )

    documents = {e["document"] for e in body["entries"]}
    assert body["partial"] is True
    assert world.a.invoices[0].number in documents and world.a.invoices[1].number not in documents


def test_a_period_ending_before_it_starts_is_a_422_with_the_pages_message(world, as_user):
    response = as_user(world.a.owner, HTTP_ACCEPT_LANGUAGE="en").get(
        f"/api/v1/customers/{world.a.customer.pk}/settlements", {"date_from": "2026-05-01", "date_to": "2026-01-01"}
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"loc": ["date_to"], "msg": "The end of the period must not be before its start."}
    ]


def test_payments_list_what_each_payment_settled(world, as_user):
    body = as_user(world.a.owner).get("/api/v1/payments").json()

    assert body["count"] == 1
    [payment] = body["results"]
    assert payment["settled"] == [
        {"invoice_id": world.a.invoices[0].pk, "invoice_number": world.a.invoices[0].number,
         "amount": {"amount": "10.00", "currency": "PLN"}}
    ]  # fmt: skip


def test_the_transfer_qr_payload_is_the_text_the_pages_qr_code_encodes(world, as_user):
    a = world.a
    a.customer.bank_account = "61109010140000071219812874"  # a checked NRB: the page shows its code
    a.customer.save()
    page = Client()
    page.force_login(a.owner)

    [row] = as_user(a.owner).get("/api/v1/transfer").json()
    html = page.get(reverse("billing:transfer")).content.decode()

    assert row["account_number"] == a.customer.bank_account and row["account_valid"]
    assert row["to_pay"] == {"amount": "500.00", "currency": "PLN"}
    assert row["qr_payload"].startswith(django_settings.IBOK_UTILITY_NIP + "|")
    assert qr.transfer_svg_data_uri(row["qr_payload"]) in html  # the page's image is this text's code


@pytest.fixture
def sandbox(settings):
    settings.IBOK_PAYMENT_SANDBOX = True
    settings.IBOK_PAYMENT_FEE = Decimal("1.00")
    settings.GETPAID_BACKEND_SETTINGS = {
        "przelewy24": {"merchant_id": 100001, "pos_id": 100001, "crc": "test-crc-key", "api_key": "",
                       "base_url": "https://sandbox.przelewy24.pl", "transport": "sandbox"}
    }  # fmt: skip


def test_an_online_payment_starts_through_the_sandbox_broker_and_reports_its_status(world, as_user, sandbox):
    a = world.a
    client = as_user(a.owner, can_write=True)

    started = client.post(
        "/api/v1/payments/online", {"invoice_ids": [a.invoices[1].pk]}, content_type="application/json"
    )

    assert started.status_code == 201, started.content
    registration = registration_from_redirect(started.json()["redirect_url"])
    assert registration["amount"] == int((a.invoices[1].outstanding + Decimal("1.00")) * 100)
    status = client.get(started.json()["status_url"]).json()
    assert status["status"] == "STARTED" and status["items"][0]["invoice_id"] == a.invoices[1].pk
    notice = Client().post(
        reverse("billing:broker-notification", kwargs={"pk": registration["sessionId"]}),
        signed_notification(registration, crc="test-crc-key"),
        content_type="application/json",
    )
    assert notice.status_code == 200
    paid = client.get(started.json()["status_url"]).json()
    assert paid["status"] == "PAID" and re.search(r"\+0[12]:00$", paid["paid_at"])  # Warsaw's offset


def test_a_read_only_token_starts_no_payment(world, as_user, sandbox):
    response = as_user(world.a.owner).post(
        "/api/v1/payments/online", {"invoice_ids": [world.a.invoices[1].pk]}, content_type="application/json"
    )

    assert response.status_code == 403
    assert OnlinePayment.objects.count() == 2  # the world's two, nothing new


def test_another_customers_invoice_cannot_be_paid_and_nothing_starts(world, as_user, sandbox):
    response = as_user(world.b.owner, can_write=True).post(
        "/api/v1/payments/online", {"invoice_ids": [world.a.invoices[1].pk]}, content_type="application/json"
    )

    assert response.status_code == 422
    assert OnlinePayment.objects.count() == 2


def test_an_unchanged_list_answers_304_to_its_etag_or_its_date_and_a_change_ends_that(world, as_user):
    client = as_user(world.a.owner)
    first = client.get("/api/v1/invoices")
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]

    assert client.get("/api/v1/invoices", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get("/api/v1/invoices", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert client.get("/api/v1/invoices?page=2", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    # Another user's copy of the same list is another representation.
    assert as_user(world.full_manager).get("/api/v1/invoices", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200

    versions.bump([world.a.customer.pk])  # any write to the customer's data does this (core.versions)

    again = client.get("/api/v1/invoices", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    later = http_date((timezone.now() + timedelta(seconds=5)).timestamp())
    assert client.get("/api/v1/invoices", HTTP_IF_MODIFIED_SINCE=later).status_code == 304


def test_the_pages_are_stable_and_shaped_alike(world, as_user):
    for number in range(60):
        factories.InvoiceFactory(customer=world.a.customer, issue_date=date(2026, 1, 1) + timedelta(days=number % 3))
    client = as_user(world.a.owner)

    one, two = client.get("/api/v1/invoices").json(), client.get("/api/v1/invoices", {"page": 2}).json()

    assert (one["count"], one["pages"], len(one["results"]), len(two["results"])) == (62, 2, 50, 12)
    ids = [row["id"] for row in one["results"] + two["results"]]
    assert len(set(ids)) == 62 and ids == [row["id"] for row in client.get("/api/v1/invoices").json()["results"]] + [
        row["id"] for row in two["results"]
    ]


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_revoked_or_expired_token_reads_no_settlements(world, state):
    from api.models import PersonalAccessToken
    from api.services import token_revoke

    token = make_token(world.a.owner)
    row = PersonalAccessToken.objects.get()
    if state == "revoked":
        token_revoke(token=row, now=timezone.now())
    else:
        past = timezone.now() - timedelta(days=40)
        PersonalAccessToken.objects.filter(pk=row.pk).update(created_at=past, expires_at=past + timedelta(days=30))

    response = bearer(token).get(f"/api/v1/customers/{world.a.customer.pk}/settlements")

    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
