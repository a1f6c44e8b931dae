"""The API's conventions and its tokens, over HTTP as an integrator uses it: the OpenAPI document, tokens shown
once and stored hashed, revoked, expired and read-only tokens refused with nothing changed, another customer's
invoice a 404, problem+json errors in the asked language, 304 on an unchanged balance, the PDF's bytes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import PersonalAccessToken
from meters.models import Reading
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def household():
    point = factories.DeliveryPointFactory()
    customer = point.customer
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("264.50"), overdue=Decimal("0.00"))
    invoice = factories.InvoiceFactory(customer=customer, delivery_point=point)
    factories.InvoiceLineFactory(invoice=invoice, position=1)
    user = factories.UserFactory(username=customer.number)
    factories.CustomerAccessFactory(user=user, customer=customer)
    meter = factories.MeterFactory(delivery_point=point)
    return {"user": user, "customer": customer, "invoice": invoice, "meter": meter}


def bearer(token: str, **headers) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", **headers)


def make_token(user, *, days: int = 30, can_write: bool = False) -> str:
    return services.token_create(user=user, name="Arkusz", days=days, can_write=can_write, now=timezone.now())[1]


def test_the_openapi_document_is_3_1_and_names_every_route():
    schema = Client().get("/api/v1/openapi.json").json()

    assert schema["openapi"].startswith("3.1")
    assert {"/api/v1/me", "/api/v1/invoices", "/api/v1/invoices/{invoice_id}/pdf"} <= set(schema["paths"])


def test_the_browsable_docs_load_scripts_from_the_portal_only():
    page = Client().get("/api/v1/docs").content.decode()

    assert "<script src=" in page
    assert "http" not in " ".join(part.split('"')[1] for part in page.split("<script src=")[1:])
    assert "unsafe-inline" not in Client().get("/api/v1/docs")["Content-Security-Policy"]


def test_a_token_is_shown_once_stored_hashed_and_its_use_recorded(household):
    token = make_token(household["user"])

    row = PersonalAccessToken.objects.get()
    assert token not in {row.token_hash, row.prefix, row.name} and row.token_hash == services.token_hash(token)
    response = bearer(token).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["customers"][0]["number"] == household["customer"].number
    row.refresh_from_db()
    assert row.last_used_at is not None


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown"])
def test_a_revoked_expired_or_unknown_token_gets_401_as_problem_json(household, state):
    token = make_token(household["user"])
    row = PersonalAccessToken.objects.get()
    if state == "revoked":
        services.token_revoke(token=row, now=timezone.now())
    elif state == "expired":
        past = timezone.now() - timedelta(days=31)
        PersonalAccessToken.objects.filter(pk=row.pk).update(created_at=past, expires_at=past + timedelta(days=30))
    else:
        token += "x"

    response = bearer(token).get("/api/v1/invoices")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_a_read_only_token_may_not_submit_a_reading_and_nothing_is_saved(household):
    token = make_token(household["user"], can_write=False)

    response = bearer(token, HTTP_ACCEPT_LANGUAGE="en").post(
        f"/api/v1/meters/{household['meter'].pk}/readings", {"value": "123.000"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "only read" in response.json()["detail"]
    assert not Reading.objects.filter(meter=household["meter"], portal_reference__gt="").exists()


def test_another_customers_invoice_is_a_404_in_the_asked_language(household):
    other = factories.InvoiceFactory()
    token = make_token(household["user"])

    for language, word in [("pl", "Nie"), ("uk", "Не")]:
        response = bearer(token, HTTP_ACCEPT_LANGUAGE=language).get(f"/api/v1/invoices/{other.pk}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"].startswith(word)


def test_an_unchanged_balance_answers_304_to_its_etag(household):
    client = bearer(make_token(household["user"]))
    url = f"/api/v1/customers/{household['customer'].pk}/balance"

    first = client.get(url)
    assert first.json()["balance"] == {"amount": "264.50", "currency": "PLN"}
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    household["customer"].balance.balance = Decimal("0.00")
    household["customer"].balance.save()  # a synced row saved by hand bumps the customer's data version
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_pdf_over_the_api_is_the_pages_pdf(household, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice = household["invoice"]
    page = Client()
    page.force_login(household["user"])

    from_page = b"".join(page.get(reverse("billing:invoice-pdf", args=[invoice.pk])).streaming_content)
    over_api = b"".join(
        bearer(make_token(household["user"])).get(f"/api/v1/invoices/{invoice.pk}/pdf").streaming_content
    )

    assert from_page.startswith(b"%PDF") and over_api == from_page
