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


@pytest.fixture
def manager_of_both(world):
    """The manager of all of A's points, also made a manager of all of B's."""
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    return world.full_manager


NARROWED_PAGES = [
    # (URL name, what of A the page lists when it shows every customer)
    ("pages:dashboard", lambda w: w.a.invoices[0].number),
    ("billing:index", lambda w: w.a.invoices[0].number),
    ("billing:payments", lambda w: w.a.customer.number),
    ("meters:index", lambda w: w.a.meters[0].serial_number),
    ("meters:contract", lambda w: w.a.points[0].code),
    ("meters:consumption", lambda w: w.a.meters[0].serial_number),
    ("tickets:index", lambda w: w.a.cases[0].subject),
    ("einvoice:index", lambda w: w.a.customer.number),
]


@pytest.mark.parametrize(("url_name", "of_a"), NARROWED_PAGES, ids=[name for name, _ in NARROWED_PAGES])
def test_a_chosen_customer_narrows_every_page_until_all_properties_are_chosen_again(
    client, world, manager_of_both, url_name, of_a
):
    client.force_login(manager_of_both)
    assert of_a(world) in client.get(reverse(url_name)).content.decode()  # both customers at first

    client.post(reverse("accounts:customer-switch"), {"customer": world.b.customer.pk})
    narrowed = client.get(reverse(url_name)).content.decode()
    client.post(reverse("accounts:customer-switch"), {"all": "1"})
    widened = client.get(reverse(url_name)).content.decode()

    assert of_a(world) not in narrowed
    assert "Odbiorca 500200: zmień" in narrowed and "Wszystkie moje nieruchomości" in narrowed
    assert of_a(world) in widened
    assert "Odbiorca 500200" not in widened


def test_the_choice_survives_navigation_and_the_header_names_it(client, world, manager_of_both):
    client.force_login(manager_of_both)
    client.post(reverse("accounts:customer-switch"), {"customer": world.a.customer.pk})

    for url_name in ("pages:dashboard", "billing:index", "meters:index", "tickets:index", "pages:dashboard"):
        html = client.get(reverse(url_name)).content.decode()
        assert "Odbiorca 500100: zmień" in html
        assert world.b.invoices[0].number not in html


def test_a_link_to_another_managed_customer_s_invoice_still_opens_while_one_is_chosen(client, world, manager_of_both):
    client.force_login(manager_of_both)
    client.post(reverse("accounts:customer-switch"), {"customer": world.b.customer.pk})

    response = client.get(reverse("billing:invoice-detail", args=[world.a.invoices[0].pk]))

    assert response.status_code == 200


def test_a_revoked_choice_is_not_shown_in_the_header(client, world, manager_of_both):
    client.force_login(manager_of_both)
    client.post(reverse("accounts:customer-switch"), {"customer": world.a.customer.pk})
    manager_of_both.customer_accesses.filter(customer=world.a.customer).delete()

    html = client.get(reverse("billing:index")).content.decode()

    assert "Odbiorca 500100" not in html
    assert world.b.invoices[0].number in html


def test_the_dashboard_of_a_narrowed_manager_counts_every_customer(client, world, manager_of_both):
    client.force_login(manager_of_both)
    client.post(reverse("accounts:customer-switch"), {"customer": world.b.customer.pk})

    response = client.get(reverse("pages:dashboard"))

    assert [s.customer for s in response.context["customers"]] == [world.b.customer]
    assert response.context["customer_count"] == 2
    assert response.context["is_narrowed"]


def test_the_settings_of_a_manager_do_not_say_that_no_customer_number_is_assigned(client, world, manager_of_both):
    client.force_login(manager_of_both)

    html = client.get(reverse("accounts:settings")).content.decode()

    assert "nie przypisano jeszcze żadnego numeru odbiorcy" not in html
    assert "Jako zarządca działasz w imieniu 2 odbiorców" in html


def test_an_account_without_customers_is_told_no_number_is_assigned(client, world):
    client.force_login(world.staff)

    html = client.get(reverse("accounts:settings")).content.decode()

    assert "nie przypisano jeszcze żadnego numeru odbiorcy" in html
