"""A partial scope in the pages of other apps: balance of their points only, no base data, no claiming."""

from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AccessRole, ContactChange, CustomerAccess
from core.models import OutboxMessage
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def saturday_21_november():
    with time_machine.travel("2026-11-21 10:00 +01:00", tick=False):
        yield


def test_the_dashboard_shows_a_partial_manager_the_balance_of_their_points_not_the_saldo(client, world):
    client.force_login(world.partial_manager)

    response = client.get(reverse("pages:dashboard"))

    summary = response.context["customers"][0]
    assert summary.balance.balance == Decimal("162.00")
    assert summary.balance.is_partial
    html = response.content.decode()
    assert "500,00" not in html  # the customer's saldo
    assert "Policzone z faktur punktów odbioru, którymi zarządzasz." in html


def test_the_dashboard_shows_a_full_manager_the_customer_s_saldo(client, world):
    client.force_login(world.full_manager)

    response = client.get(reverse("pages:dashboard"))

    assert response.context["customers"][0].balance.balance == Decimal("500.00")


def test_the_transfer_page_asks_a_partial_manager_for_their_points_only(client, world):
    client.force_login(world.partial_manager)

    response = client.get(reverse("billing:transfer"))

    assert response.context["accounts"][0]["to_pay"] == Decimal("162.00")


def test_a_manager_of_all_points_may_change_the_customer_s_contact_data_but_not_their_own_phone(client, world):
    factories.sign_in_recently(client, world.full_manager)

    response = client.post(
        reverse("accounts:contact-update"),
        {
            "customer": world.a.customer.pk,
            "street": "ul. Nowa",
            "building": "2",
            "postal_code": "37-700",
            "city": "Przemyśl",
            "phone": "+48 600 100 200",
        },
    )

    assert response.status_code == 302
    assert ContactChange.objects.get().customer == world.a.customer
    assert OutboxMessage.objects.filter(kind="contact_change").count() == 1
    world.full_manager.refresh_from_db()
    assert world.full_manager.phone == ""  # the customer's phone, not the manager's


def test_a_manager_of_some_points_gets_no_contact_form(client, world):
    client.force_login(world.partial_manager)

    response = client.get(reverse("accounts:settings"))

    assert not response.context["may_change_contact"]
    assert 'action="/settings/contact/"' not in response.content.decode()


def test_a_manager_cannot_make_a_managed_customer_number_their_own(client, world):
    client.force_login(world.partial_manager)
    CustomerAccess.objects.filter(customer=world.a.customer, role=AccessRole.OWNER).delete()  # no owner yet

    response = client.post(
        reverse("accounts:customer-add"),
        {"customer_number": world.a.customer.number, "invoice_number": world.a.invoices[1].number},
    )

    assert response.status_code == 400
    assert "Zarządzasz nieruchomościami tego odbiorcy" in response.content.decode()
    access = CustomerAccess.objects.get(user=world.partial_manager)
    assert (access.role, access.all_points) == (AccessRole.MANAGER, False)


def test_a_partial_manager_does_not_see_the_owner_s_online_payment(client, world):
    client.force_login(world.partial_manager)

    response = client.get(reverse("billing:online-payment-detail", args=[world.a.online_payment.reference]))

    assert response.status_code == 404


def test_a_partial_manager_sees_of_a_payment_only_what_settled_their_point(client, world):
    # The world's payment of 162,00 zł settled 10,00 zł of the first point's invoice; add 50,00 zł for the second.
    payment = world.a.invoices[0].allocations.get().payment
    factories.PaymentAllocationFactory(payment=payment, invoice=world.a.invoices[1], amount=Decimal("50.00"))
    client.force_login(world.partial_manager)

    listed = client.get(reverse("billing:payments"))
    dashboard = client.get(reverse("pages:dashboard"))

    [row] = listed.context["page"].object_list
    assert row.scope_amount == Decimal("10.00")
    assert payment.title not in listed.content.decode()  # free text from the bank, maybe about other points
    assert [p.scope_amount for p in dashboard.context["recent_payments"]] == [Decimal("10.00")]


def test_the_customer_sees_the_whole_payment(client, world):
    client.force_login(world.a.owner)

    listed = client.get(reverse("billing:payments"))

    [row] = listed.context["page"].object_list
    assert row.scope_amount == row.amount == Decimal("162.00")
