"""The API's refund and report routes: the pages' forms and services behind them, the same rules."""

import json
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing.models import RefundRequest, RefundStatus
from core.models import OutboxMessage
from tests import factories
from tickets.models import Case

pytestmark = pytest.mark.django_db

VALID_NRB = "50109010140000000012345678"


@pytest.fixture
def overpaid(customer):
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("-40.00"))
    return customer


def post_json(client, name, data):
    return client.post(reverse(name), json.dumps(data), content_type="application/json")


def test_an_app_asks_for_a_refund_with_the_password_and_sees_it_listed(as_user, overpaid, customer_user):
    app = as_user(customer_user, can_write=True)
    request = {"customer_id": overpaid.pk, "method": "BANK_TRANSFER", "bank_account": VALID_NRB}

    wrong = post_json(app, "api-v1:refund_create", {**request, "password": "nie-to-haslo"})
    created = post_json(app, "api-v1:refund_create", {**request, "password": factories.PASSWORD})
    again = post_json(app, "api-v1:refund_create", {**request, "password": factories.PASSWORD})

    assert wrong.status_code == 403
    assert created.status_code == 201, created.content
    assert created.json()["status"] == RefundStatus.REQUESTED
    assert again.status_code == 409  # one open request at a time
    assert RefundRequest.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="refund_request").count() == 1
    [row] = app.get(reverse("api-v1:refund_list")).json()
    assert row["overpayment"] == {"amount": "40.00", "currency": "PLN"}
    assert row["open_request"] == created.json()["reference"]


def test_a_bad_account_number_is_the_forms_error(as_user, overpaid, customer_user):
    app = as_user(customer_user, can_write=True)

    response = post_json(
        app,
        "api-v1:refund_create",
        {"customer_id": overpaid.pk, "method": "BANK_TRANSFER", "bank_account": "123", "password": factories.PASSWORD},
    )

    assert response.status_code == 422
    assert "26 cyfr" in json.dumps(response.json(), ensure_ascii=False)
    assert not RefundRequest.objects.exists()


def test_a_read_only_token_cannot_ask_for_a_refund(as_user, overpaid, customer_user):
    response = post_json(
        as_user(customer_user),
        "api-v1:refund_create",
        {"customer_id": overpaid.pk, "method": "OFFSET", "password": factories.PASSWORD},
    )

    assert response.status_code == 403
    assert not RefundRequest.objects.exists()


def test_anyone_reports_a_failure_and_reads_it_back_by_its_token(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("api-v1:report_create"),
            {"case_type": "WATER_QUALITY", "location": "ul. Wodna 3", "description": "Brązowa woda.",
             "email": "mieszkaniec@example.pl"},
        )  # fmt: skip

    assert created.status_code == 201, created.content
    token = created.json()["token"]
    assert Case.objects.get().customer is None
    assert token in mail.outbox[0].body
    report = client.get(reverse("api-v1:report_detail", kwargs={"token": token})).json()
    assert report["thread"][0]["body"] == "Brązowa woda."
    assert client.get(reverse("api-v1:report_detail", kwargs={"token": token[:-2] + "xx"})).status_code == 404


def test_a_report_without_contact_is_refused_and_records_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

    response = Client().post(
        reverse("api-v1:report_create"),
        {"case_type": "FAILURE", "location": "ul. Wodna 3", "description": "Wyciek."},
    )

    assert response.status_code == 422
    assert not Case.objects.exists()
