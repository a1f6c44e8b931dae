"""Refused payment notices: a 4xx, never a 500, and an entry in the security log."""

import json

import pytest
from django.urls import reverse

from billing.models import OnlinePayment
from core.models import SecurityEvent, SecurityEventKind
from core.security import identifier_hash
from tests import factories
from tests.billing.conftest import registration_from_redirect, sandbox_broker, signed_notification  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_invoices(customer):
    point = customer.delivery_points.get()
    return (
        factories.InvoiceFactory(customer=customer, delivery_point=point, number="FV/00201/10/2026"),
        factories.InvoiceFactory(customer=customer, delivery_point=point, number="FV/00202/11/2026"),
    )


def start_payment(client, invoices) -> dict:
    response = client.post(reverse("billing:pay"), {"invoices": [invoice.pk for invoice in invoices]})
    assert response.status_code == 302
    return registration_from_redirect(response["Location"])


def notify(client, registration: dict, body: dict, **extra):
    url = reverse("billing:broker-notification", kwargs={"pk": registration["sessionId"]})
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def test_a_signed_notice_naming_another_payments_order_is_refused_with_a_4xx(client, customer_user, two_invoices):
    client.force_login(customer_user)
    first = start_payment(client, two_invoices[:1])
    second = start_payment(client, two_invoices[1:])
    assert notify(client, first, signed_notification(first, order_id=317000001)).status_code == 200

    response = notify(client, second, signed_notification(second, order_id=317000001))

    assert 400 <= response.status_code < 500
    assert OnlinePayment.objects.filter(paid_at__isnull=False).count() == 1
    event = SecurityEvent.objects.get()
    assert event.kind == SecurityEventKind.PAYMENT_NOTICE_REFUSED
    assert event.identifier_hash == identifier_hash(second["sessionId"])


def test_a_forged_notice_is_logged_with_the_senders_address(client, customer_user, two_invoices):
    client.force_login(customer_user)
    registration = start_payment(client, two_invoices[:1])

    response = notify(client, registration, signed_notification(registration, crc="wrong"), REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403
    event = SecurityEvent.objects.get()
    assert (event.kind, event.ip_address) == (SecurityEventKind.PAYMENT_NOTICE_REFUSED, "203.0.113.9")
