"""A customer with an overpayment asks for it back to their bank account; the refund page passes axe."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from billing.models import RefundRequest, RefundStatus
from tests import factories
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def overpaid_household(transactional_db):
    point = factories.DeliveryPointFactory(customer__number="204519", customer__name="Anna Nowak")
    user = factories.UserFactory(username="204519", first_name="Anna", last_name="Nowak")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    factories.CustomerBalanceFactory(customer=point.customer, balance=Decimal("-84.20"))
    return user


def test_a_customer_asks_for_the_overpayment_by_transfer_and_sees_its_status(page, live_server, overpaid_household):
    login(page, live_server, "204519", factories.PASSWORD)
    page.goto(live_server.url + reverse("billing:refund"))
    assert page.get_by_role("heading", level=1).inner_text() == "Zwrot nadpłaty"
    assert_no_axe_violations(page)

    page.get_by_label("Przelew na moje konto bankowe").check()
    page.get_by_label("Numer rachunku bankowego").fill("51 1090 1014 0000 0000 1234 5678")
    page.get_by_role("button", name="Złóż wniosek o zwrot").click()
    assert "Podaj poprawny numer polskiego rachunku bankowego" in page.locator("main").inner_text()
    assert_no_axe_violations(page)

    page.get_by_label("Numer rachunku bankowego").fill("50 1090 1014 0000 0000 1234 5678")
    page.get_by_role("button", name="Złóż wniosek o zwrot").click()

    refund = RefundRequest.objects.get()
    assert refund.status == RefundStatus.REQUESTED
    main = page.locator("main").inner_text()
    assert refund.reference in main
    assert "jest rozpatrywany" in main
    screenshot(page, "billing-refund")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
