"""Online payment through django-getpaid and the sandbox broker (Przelewy24's protocol), end to end."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from getpaid.models import Payment as GetpaidPayment
from getpaid.types import PaymentStatus as GetpaidStatus

from billing.models import BrokerEvent, BrokerEventOutcome, OnlinePayment
from core.models import OutboxMessage
from tests import factories
from tests.billing.conftest import registration_from_redirect, signed_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_invoices(customer, point):
    first = factories.InvoiceFactory(customer=customer, delivery_point=point, number="FV/00101/10/2026")
    second = factories.InvoiceFactory(
        customer=customer, delivery_point=point, number="FV/00102/11/2026", net=Decimal("100.00")
    )
    return first, second


def start_payment(client, invoices) -> dict:
    response = client.post(reverse("billing:pay"), {"invoices": [invoice.pk for invoice in invoices]})
    assert response.status_code == 302
    return registration_from_redirect(response["Location"])


def notify(client, registration: dict, body: dict):
    url = reverse("billing:broker-notification", kwargs={"pk": registration["sessionId"]})
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_pay_page_lists_unpaid_invoices_and_the_fee(client, customer_user, two_invoices):
    client.force_login(customer_user)

    response = client.get(reverse("billing:pay"))

    html = response.content.decode()
    assert "FV/00101/10/2026" in html
    assert "FV/00102/11/2026" in html
    assert "1,00" in html  # the fee the utility charges


def test_choosing_invoices_registers_a_signed_transaction_for_their_total_plus_the_fee(
    client, customer_user, two_invoices
):
    client.force_login(customer_user)

    registration = start_payment(client, two_invoices)

    expected = sum(invoice.outstanding for invoice in two_invoices) + Decimal("1.00")
    online_payment = OnlinePayment.objects.get()
    assert registration["amount"] == int(expected * 100)
    assert registration["currency"] == "PLN"
    assert registration["sessionId"] == str(GetpaidPayment.objects.get().pk)
    assert online_payment.total == expected
    assert online_payment.fee == Decimal("1.00")
    assert set(online_payment.invoices.values_list("number", flat=True)) == {"FV/00101/10/2026", "FV/00102/11/2026"}
    notification_url = reverse("billing:broker-notification", kwargs={"pk": registration["sessionId"]})
    assert registration["urlStatus"].endswith(notification_url)


def test_verified_notification_records_the_payment_and_queues_it_for_the_billing_system(
    client, customer, customer_user, two_invoices
):
    client.force_login(customer_user)
    registration = start_payment(client, two_invoices)

    response = notify(client, registration, signed_notification(registration))

    online_payment = OnlinePayment.objects.get()
    message = OutboxMessage.objects.get()
    assert response.status_code == 200
    assert online_payment.paid_at is not None
    assert online_payment.broker_reference == "p24:317000001"
    assert GetpaidPayment.objects.get().status == GetpaidStatus.PAID
    assert message.kind == "online_payment"
    assert message.customer_number == customer.number
    assert message.payload["portal_reference"] == online_payment.reference
    assert message.payload["total"] == str(online_payment.total)
    assert {line["invoice_id"] for line in message.payload["invoices"]} == {i.external_id for i in two_invoices}
    assert BrokerEvent.objects.get().outcome == BrokerEventOutcome.ACCEPTED


def test_the_same_notification_twice_records_one_payment(client, customer_user, two_invoices):
    client.force_login(customer_user)
    registration = start_payment(client, two_invoices)
    body = signed_notification(registration)

    first = notify(client, registration, body)
    paid_at = OnlinePayment.objects.get().paid_at
    second = notify(client, registration, body)

    assert first.status_code == 200
    assert second.status_code == 200  # acknowledged, or the broker would keep retrying
    assert OnlinePayment.objects.get().paid_at == paid_at
    assert OutboxMessage.objects.count() == 1
    assert BrokerEvent.objects.filter(outcome=BrokerEventOutcome.ACCEPTED).count() == 2


@pytest.mark.parametrize(
    ("tampering", "changes"),
    [
        ("signed with a wrong key", {"crc": "not-the-shop-key"}),
        ("amount raised after signing", {"amount": 1}),
        ("another currency", {"currency": "EUR"}),
        ("signature missing", {"sign": ""}),
    ],
)
def test_a_forged_notification_records_nothing(client, customer_user, two_invoices, tampering, changes):
    client.force_login(customer_user)
    registration = start_payment(client, two_invoices)
    crc = changes.pop("crc", None)
    body = signed_notification(registration, **({"crc": crc} if crc else {}), **changes)

    response = notify(client, registration, body)

    assert response.status_code == 403, tampering
    assert OnlinePayment.objects.get().paid_at is None
    assert GetpaidPayment.objects.get().status != GetpaidStatus.PAID
    assert not OutboxMessage.objects.exists()
    assert BrokerEvent.objects.get().outcome == BrokerEventOutcome.REJECTED


def test_a_correctly_signed_notification_of_a_different_amount_records_nothing(client, customer_user, two_invoices):
    """The broker's own signature does not make a short payment a full one."""
    client.force_login(customer_user)
    registration = start_payment(client, two_invoices)
    short = dict(registration, amount=registration["amount"] - 100)

    response = notify(client, registration, signed_notification(short))

    assert response.status_code == 403
    assert OnlinePayment.objects.get().paid_at is None
    assert not OutboxMessage.objects.exists()


def test_a_notification_for_another_payment_records_nothing(client, customer_user, two_invoices):
    client.force_login(customer_user)
    first = start_payment(client, two_invoices[:1])
    second = start_payment(client, two_invoices[1:])

    response = notify(client, second, signed_notification(first))

    assert response.status_code == 403
    assert not OnlinePayment.objects.filter(paid_at__isnull=False).exists()


def sync_payment(tmp_path, customer, reference: str, invoices) -> None:
    """The billing system's next batch: the online payment booked, settling the invoices (a real sync)."""
    from django.utils import timezone

    from billing.services import batch_import

    batch = tmp_path / "booked"
    batch.mkdir()
    (batch / "manifest.json").write_text(
        json.dumps({"contract_version": 1, "generated_at": "2026-11-21T10:00:00+00:00", "cursor": "c2", "full": False})
    )
    record = {
        "id": f"WPL-{reference}",
        "changed_at": timezone.now().isoformat(),
        "customer_id": customer.external_id,
        "paid_date": "2026-11-20",
        "amount": str(sum(invoice.outstanding for invoice in invoices)),
        "channel": "ONLINE",
        "title": "Płatność online",
        "portal_reference": reference,
        "allocations": [
            {"invoice_id": invoice.external_id, "amount": str(invoice.outstanding)} for invoice in invoices
        ],
    }
    (batch / "payments.jsonl").write_text(json.dumps(record) + "\n")
    batch_import(folder=batch, clock=timezone.now)


def test_paid_invoices_show_payment_in_progress_until_the_billing_system_books_them(
    client, customer, customer_user, two_invoices, tmp_path
):
    client.force_login(customer_user)
    registration = start_payment(client, two_invoices)
    notify(client, registration, signed_notification(registration))
    reference = OnlinePayment.objects.get().reference

    listed = client.get(reverse("billing:index"))
    assert listed.content.decode().count("Płatność w toku") == 2
    assert not client.get(reverse("billing:pay")).context["rows"]  # nothing left to choose

    sync_payment(tmp_path, customer, reference, two_invoices)  # the billing system books it

    booked = client.get(reverse("billing:index"))
    assert "Płatność w toku" not in booked.content.decode()
    assert (
        client.get(reverse("billing:online-payment-detail", kwargs={"reference": reference}))
        .context["online_payment"]
        .booked
    )


def test_entering_an_amount_pays_it_without_invoices(client, customer, customer_user):
    client.force_login(customer_user)

    response = client.post(reverse("billing:pay"), {"amount": "150,50"})

    online_payment = OnlinePayment.objects.get()
    assert response.status_code == 302
    assert online_payment.amount == Decimal("150.50")
    assert online_payment.total == Decimal("151.50")
    assert online_payment.customer == customer
    assert not online_payment.items.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Wybierz co najmniej jedną fakturę"),
        ({"amount": "0"}, "Upewnij się"),
        ({"amount": "-5"}, "Upewnij się"),
        ({"amount": "abc"}, "Wpisz liczbę"),
    ],
)
def test_bad_choices_are_refused_with_a_message_and_change_nothing(client, customer_user, data, message):
    client.force_login(customer_user)

    response = client.post(reverse("billing:pay"), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OnlinePayment.objects.exists()


def test_another_customers_invoice_cannot_be_chosen(client, customer_user, stranger):
    client.force_login(customer_user)

    response = client.post(reverse("billing:pay"), {"invoices": [stranger.invoice.pk]})

    assert response.status_code == 200
    assert not OnlinePayment.objects.exists()


def test_the_return_page_says_the_payment_was_received(client, customer_user, two_invoices):
    client.force_login(customer_user)
    registration = start_payment(client, two_invoices)
    notify(client, registration, signed_notification(registration))

    response = client.get(registration["urlReturn"])

    assert response.status_code == 200
    assert "Dziękujemy" in response.content.decode()


def test_sandbox_broker_page_shows_the_amount_and_cancelling_records_nothing(client, customer_user, two_invoices):
    client.force_login(customer_user)
    response = client.post(reverse("billing:pay"), {"invoices": [two_invoices[0].pk]})
    broker_page = response["Location"]

    page = client.get(broker_page)
    cancelled = client.post(broker_page, {"cancel": "1"})

    assert page.status_code == 200
    assert "Przelewy24" in page.content.decode()
    assert cancelled.status_code == 302
    assert OnlinePayment.objects.get().paid_at is None


def test_sandbox_broker_is_not_there_in_production(client, settings, customer_user, two_invoices):
    client.force_login(customer_user)
    response = client.post(reverse("billing:pay"), {"invoices": [two_invoices[0].pk]})
    settings.IBOK_PAYMENT_SANDBOX = False

    assert client.get(response["Location"]).status_code == 404


def test_without_broker_credentials_the_page_offers_a_bank_transfer(client, settings, customer_user, two_invoices):
    settings.GETPAID_BACKEND_SETTINGS = {"przelewy24": {"merchant_id": 1, "crc": "", "transport": "http"}}
    client.force_login(customer_user)

    response = client.post(reverse("billing:pay"), {"invoices": [two_invoices[0].pk]})

    assert response.status_code == 200
    assert not response.context["enabled"]
    assert not OnlinePayment.objects.exists()


def test_a_synced_payment_with_the_portal_reference_is_read_from_the_billing_batch(tmp_path, customer, two_invoices):
    """The importer keeps portal_reference (docs/billing-sync.md), which is what books the online payment."""
    from django.utils import timezone

    from billing.services import batch_import

    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "manifest.json").write_text(
        json.dumps({"contract_version": 1, "generated_at": "2026-11-21T10:00:00+00:00", "cursor": "c1", "full": False})
    )
    record = {
        "id": "WPL-ONLINE-1",
        "changed_at": "2026-11-21T10:00:00+00:00",
        "customer_id": customer.external_id,
        "paid_date": "2026-11-20",
        "amount": "162.00",
        "channel": "ONLINE",
        "title": "Płatność online",
        "portal_reference": "IBOK-261120-ABCDEF01",
        "allocations": [{"invoice_id": two_invoices[0].external_id, "amount": "162.00"}],
    }
    (batch / "payments.jsonl").write_text(json.dumps(record) + "\n")

    batch_import(folder=batch, clock=timezone.now)

    assert customer.payments.get().portal_reference == "IBOK-261120-ABCDEF01"
