"""The customer switcher: the current customer, kept in the session, for the pages that show one customer."""

import pytest
from django.urls import reverse

from accounts import switcher
from accounts.models import AccessRole
from portal.selectors import DASHBOARD_MAX_CUSTOMERS
from tests import factories

pytestmark = pytest.mark.django_db


def test_switching_to_a_customer_keeps_it_in_the_session_and_shows_it_in_the_header(client, world):
    client.force_login(world.full_manager)

    response = client.post(
        reverse("accounts:customer-switch"), {"customer": world.a.customer.pk, "next": reverse("billing:index")}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("billing:index")
    assert client.session[switcher.SESSION_KEY]["number"] == world.a.customer.number
    assert "Odbiorca 500100: zmień" in client.get(reverse("billing:index")).content.decode()


def test_switching_to_another_s_customer_is_not_found(client, world):
    client.force_login(world.full_manager)

    response = client.post(reverse("accounts:customer-switch"), {"customer": world.b.customer.pk})

    assert response.status_code == 404
    assert switcher.SESSION_KEY not in client.session


def test_a_redirect_elsewhere_after_switching_is_refused(client, world):
    client.force_login(world.full_manager)

    response = client.post(
        reverse("accounts:customer-switch"), {"customer": world.a.customer.pk, "next": "https://evil.example"}
    )

    assert response["Location"] == reverse("pages:dashboard")


def test_the_switcher_finds_customers_by_address(client, world):
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    client.force_login(world.full_manager)

    response = client.get(reverse("accounts:customer-switch"), {"q": world.b.customer.number})

    assert [c.number for c in response.context["page"].object_list] == [world.b.customer.number]


def test_the_settlements_open_on_the_switched_customer(client, world):
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    client.force_login(world.full_manager)
    client.post(reverse("accounts:customer-switch"), {"customer": world.b.customer.pk})

    response = client.get(reverse("billing:settlements"))

    assert response.context["ledger"].customer == world.b.customer


def test_a_stale_switch_to_a_revoked_customer_shows_nothing_of_it(client, world):
    client.force_login(world.full_manager)
    client.post(reverse("accounts:customer-switch"), {"customer": world.a.customer.pk})
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    world.full_manager.customer_accesses.filter(customer=world.a.customer).delete()

    response = client.get(reverse("billing:settlements"))

    assert response.context["ledger"].customer == world.b.customer


def test_the_dashboard_of_a_manager_of_many_shows_one_customer_and_links_the_overview(client, world):
    for _ in range(DASHBOARD_MAX_CUSTOMERS):
        point = factories.DeliveryPointFactory()
        factories.CustomerAccessFactory(user=world.full_manager, customer=point.customer, role=AccessRole.MANAGER)
    client.force_login(world.full_manager)
    client.post(reverse("accounts:customer-switch"), {"customer": world.a.customer.pk})

    response = client.get(reverse("pages:dashboard"))

    assert [s.customer for s in response.context["customers"]] == [world.a.customer]
    assert response.context["customer_count"] == DASHBOARD_MAX_CUSTOMERS + 1
    assert reverse("pages:manager-overview") in response.content.decode()
