"""The balance forecast and payment plan requests over HTTP with tokens (issue 21)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import PaymentPlanRequest
from core.models import OutboxMessage
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_forecast_of_a_customer_without_history_says_so(world, as_user):
    a = world.a

    body = as_user(a.owner).get(f"/api/v1/customers/{a.customer.pk}/forecast").json()

    assert body["customer_id"] == a.customer.pk
    assert body["available"] in (True, False)
    assert (body["periods"] == []) == (not body["available"])


def test_a_negative_monthly_payment_is_refused_with_the_forms_message(world, as_user):
    a = world.a

    response = as_user(a.owner).get(f"/api/v1/customers/{a.customer.pk}/forecast", {"monthly_payment": "-5"})

    assert response.status_code == 422


def test_a_payment_plan_request_is_made_and_listed(world, as_user):
    a = world.a
    overdue = factories.InvoiceFactory(
        customer=a.customer, issue_date=timezone.localdate() - timedelta(days=60), net=Decimal("277.78"),
        vat=Decimal("22.22"), gross=Decimal("300.00"), outstanding=Decimal("300.00"),
    )  # fmt: skip
    client = as_user(a.owner, can_write=True)
    url = f"/api/v1/customers/{a.customer.pk}/payment-plans"

    created = client.post(url, {"invoice_ids": [overdue.pk], "instalments": 3}, content_type="application/json")
    again = client.post(url, {"invoice_ids": [overdue.pk], "instalments": 3}, content_type="application/json")
    listed = client.get(url).json()

    assert created.status_code == 201
    assert created.json()["total"]["amount"] == "300.00"
    assert again.status_code == 409
    assert [r["reference"] for r in listed["requests"]] == [created.json()["reference"]]
    assert PaymentPlanRequest.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="payment_plan_request").count() == 1


def test_a_read_only_token_cannot_ask_for_instalments(world, as_user):
    a = world.a

    response = as_user(a.owner).post(
        f"/api/v1/customers/{a.customer.pk}/payment-plans",
        {"invoice_ids": [], "instalments": 3},
        content_type="application/json",
    )

    assert response.status_code == 403
