"""Paying for several properties at once: one online payment per customer number, each sent to the broker."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AccessRole
from billing.models import OnlinePayment
from billing.payments import przelewy24
from tests import factories
from tests.billing.conftest import SANDBOX_CRC, registration_from_redirect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sandbox_broker(settings, media):
    settings.IBOK_PAYMENT_SANDBOX = True
    settings.IBOK_PAYMENT_FEE = Decimal("1.00")
    settings.GETPAID_BACKEND_SETTINGS = {
        przelewy24.PaymentProcessor.slug: {
            "merchant_id": 100001,
            "pos_id": 100001,
            "crc": SANDBOX_CRC,
            "api_key": "",
            "base_url": "https://sandbox.przelewy24.pl",
            "transport": "sandbox",
        }
    }


@pytest.fixture
def manager_of_both(world):
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    return world.full_manager


def test_invoices_of_two_customers_start_one_payment_per_customer(client, world, manager_of_both):
    client.force_login(manager_of_both)
    chosen = [world.a.invoices[0], world.a.invoices[1], world.b.invoices[0]]

    response = client.post(reverse("pages:manager-pay"), {"invoices": [invoice.pk for invoice in chosen]})

    assert response.status_code == 302
    assert response["Location"] == reverse("pages:manager-pay-batch")
    started = OnlinePayment.objects.filter(user=manager_of_both).order_by("customer__number")
    assert [(p.customer, p.amount, p.fee) for p in started] == [
        (world.a.customer, Decimal("324.00"), Decimal("1.00")),
        (world.b.customer, Decimal("162.00"), Decimal("1.00")),
    ]
    assert {item.invoice for item in started[0].items.all()} == set(world.a.invoices)


def test_each_prepared_payment_goes_to_the_broker_for_its_own_total(client, world, manager_of_both):
    client.force_login(manager_of_both)
    client.post(reverse("pages:manager-pay"), {"invoices": [world.a.invoices[0].pk, world.b.invoices[0].pk]})
    payment_b = OnlinePayment.objects.get(user=manager_of_both, customer=world.b.customer)

    batch = client.get(reverse("pages:manager-pay-batch"))
    response = client.post(reverse("pages:manager-pay-batch"), {"reference": payment_b.reference})

    assert [p.customer.number for p in batch.context["payments"]] == ["500100", "500200"]
    registration = registration_from_redirect(response["Location"])
    assert registration["amount"] == 16300  # 162,00 zł and the 1,00 zł fee, in grosze
    assert "500200" in registration["description"]


def test_a_partial_manager_cannot_pay_an_invoice_of_a_point_not_granted(client, world):
    client.force_login(world.partial_manager)

    response = client.post(reverse("pages:manager-pay"), {"invoices": [world.a.invoices[1].pk]})

    assert response.status_code == 400
    assert not OnlinePayment.objects.filter(user=world.partial_manager).exists()


def test_a_partial_manager_pays_the_invoice_of_their_point(client, world):
    client.force_login(world.partial_manager)

    response = client.post(reverse("pages:manager-pay"), {"invoices": [world.a.invoices[0].pk]})

    assert response.status_code == 302
    assert OnlinePayment.objects.get(user=world.partial_manager).amount == Decimal("162.00")


def test_another_customer_s_invoice_cannot_be_chosen(client, world):
    client.force_login(world.b.owner)

    response = client.post(reverse("pages:manager-pay"), {"invoices": [world.a.invoices[0].pk]})

    assert response.status_code == 400
    assert not OnlinePayment.objects.filter(items__invoice=world.a.invoices[0]).exists()


def test_a_payment_outside_the_batch_cannot_be_sent_to_the_broker(client, world, manager_of_both):
    client.force_login(manager_of_both)
    client.post(reverse("pages:manager-pay"), {"invoices": [world.a.invoices[0].pk]})

    response = client.post(reverse("pages:manager-pay-batch"), {"reference": world.b.online_payment.reference})

    assert response.status_code == 404


def test_the_payment_page_lists_the_invoices_of_every_customer_with_their_numbers(client, world, manager_of_both):
    client.force_login(manager_of_both)

    response = client.get(reverse("pages:manager-pay"))

    html = response.content.decode()
    for invoice in world.a.invoices + world.b.invoices:
        assert invoice.number in html


def test_a_manager_with_a_long_address_pays_each_customer_with_an_address_the_broker_takes(
    client, world, manager_of_both
):
    """Przelewy24 takes at most 50 characters: the customer's own address goes instead of the manager's."""
    manager_of_both.email = "ksiegowosc.zarzadu.nieruchomosci.slonecznej@administracja-osiedla.pl"
    manager_of_both.save()
    client.force_login(manager_of_both)
    client.post(reverse("pages:manager-pay"), {"invoices": [world.a.invoices[0].pk]})
    payment_a = OnlinePayment.objects.get(user=manager_of_both)

    response = client.post(reverse("pages:manager-pay-batch"), {"reference": payment_a.reference})

    assert response.status_code == 302
    assert registration_from_redirect(response["Location"])["email"] == world.a.customer.email
