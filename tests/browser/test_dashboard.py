"""A customer signs in through the real form and sees their balance; both pages pass axe (WCAG 2.1 AA)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import PaymentChannel
from tests import factories
from tests.browser.conftest import (
    PHONE,
    assert_no_axe_violations,
    assert_no_csp_violations,
    assert_no_horizontal_scroll,
    login,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

NBSP = "\u00a0"


@pytest.fixture
def household(transactional_db):
    """Anna Wiśniewska, customer 204518: in debt, one invoice overdue and partly paid, one due soon."""
    today = timezone.localdate()
    point = factories.DeliveryPointFactory(
        customer__number="204518",
        customer__name="Anna Wiśniewska",
        customer__street="ul. Słowackiego",
        customer__building="12",
        customer__apartment="4",
        customer__postal_code="37-700",
        customer__city="Przemyśl",
    )
    customer = point.customer
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("1234.56"), overdue=Decimal("184.32"))
    overdue = factories.InvoiceFactory(
        customer=customer,
        delivery_point=point,
        number="FV/01873/10/2026",
        issue_date=today - timedelta(days=40),
        due_date=today - timedelta(days=26),
        net=Decimal("262.00"),
        outstanding=Decimal("184.32"),
    )
    factories.InvoiceLineFactory(
        invoice=overdue, position=1, quantity=Decimal("47.207"), unit_price_net=Decimal("5.5500")
    )
    factories.InvoiceFactory(
        customer=customer,
        delivery_point=point,
        number="FV/02291/11/2026",
        issue_date=today - timedelta(days=4),
        due_date=today + timedelta(days=10),
        net=Decimal("972.44"),
    )
    factories.PaymentFactory(
        customer=customer, paid_date=today - timedelta(days=20), amount=Decimal("98.64"), channel=PaymentChannel.ONLINE
    )
    factories.PaymentFactory(customer=customer, paid_date=today - timedelta(days=52), amount=Decimal("241.07"))
    factories.SyncRunFactory()
    user = factories.UserFactory(username=customer.number, first_name="Anna", last_name="Wiśniewska")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer)
    return user


def test_login_page_is_part_of_the_portal_and_accessible(page, live_server):
    page.goto(live_server.url + reverse("account_login"))

    assert page.locator("html").get_attribute("lang") == "pl"
    assert page.get_by_label("Numer odbiorcy lub e-mail").is_visible()
    assert page.get_by_role("link", name="Deklaracja dostępności").is_visible()
    screenshot(page, "login-desktop")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_wrong_password_is_announced_and_tied_to_the_form(page, live_server, household):
    page.goto(live_server.url + reverse("account_login"))
    page.get_by_label("Numer odbiorcy lub e-mail").fill("204518")
    page.get_by_label("Hasło", exact=True).fill("nie-to-haslo")
    page.locator("form.form button[type=submit]").click()

    expect(page.get_by_role("alert")).to_be_visible()  # waits for the answer to the POST, on a busy machine too
    assert_no_axe_violations(page)


def test_customer_signs_in_and_sees_number_and_balance(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)

    main = page.locator("main")
    assert "204518" in main.inner_text()
    assert f"1{NBSP}234,56{NBSP}zł" in main.inner_text()
    assert "FV/01873/10/2026" in main.inner_text()
    assert page.get_by_role("link", name="Pulpit").get_attribute("aria-current") == "page"
    screenshot(page, "dashboard-desktop")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_dashboard_fits_a_phone_without_horizontal_scroll(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)
    page.set_viewport_size(PHONE)
    page.reload()

    assert_no_horizontal_scroll(page)
    screenshot(page, "dashboard-phone")
    assert_no_axe_violations(page)


def test_dashboard_fits_the_narrowest_phone(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)
    page.set_viewport_size({"width": 320, "height": 640})
    page.reload()

    assert_no_horizontal_scroll(page)


def test_customer_signs_out_with_the_header_button(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)

    page.get_by_role("button", name="Wyloguj").click()

    page.wait_for_url(live_server.url + "/**")
    page.goto(live_server.url + reverse("pages:dashboard"))
    assert page.url.startswith(live_server.url + reverse("account_login"))


def test_language_switcher_turns_the_page_ukrainian(page, live_server):
    page.goto(live_server.url + reverse("pages:accessibility"))

    page.get_by_label("Język").select_option("uk")
    page.get_by_role("button", name="Zmień").click()

    assert page.locator("html").get_attribute("lang") == "uk"
    assert page.get_by_role("heading", level=1).inner_text() == "Декларація доступності"
    assert_no_axe_violations(page)
