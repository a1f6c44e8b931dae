"""The balance forecast and the instalments request in Chromium, with axe on each page (issue 21)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from billing.models import PaymentPlanRequest
from tests import factories
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def household(transactional_db):
    """Customer 310055: fourteen monthly water invoices, the last two overdue."""
    today = timezone.localdate()
    first = today.replace(day=1) - relativedelta(months=14)
    customer = factories.DeliveryPointFactory(customer__number="310055").customer
    for k in range(14):
        start = first + relativedelta(months=k)
        issued = start + relativedelta(months=1, days=4)
        invoice = factories.InvoiceFactory(
            customer=customer,
            number=f"FV/{k:05d}/2026",
            issue_date=issued,
            due_date=issued + timedelta(days=14),
            period_start=start,
            period_end=start + relativedelta(months=1),
            outstanding=Decimal("162.00") if k >= 12 and issued + timedelta(days=14) < today else Decimal("0.00"),
        )
        factories.InvoiceLineFactory(invoice=invoice, position=1, description="Woda", unit="m3")
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("324.00"), overdue=Decimal("324.00"))
    factories.SyncRunFactory()
    user = factories.UserFactory(username=customer.number)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer)
    return customer


def test_customer_reads_the_forecast_and_asks_for_instalments(page, live_server, household):
    login(page, live_server, "310055", factories.PASSWORD)

    page.goto(live_server.url + reverse("billing:forecast"))
    assert page.locator("svg.chart").is_visible()
    assert "co miesiąc" in page.locator("main").inner_text()
    page.get_by_label("Wpłata miesięczna").fill("200")
    page.get_by_role("button", name="Przelicz").click()
    assert "200,00" in page.locator("table caption").inner_text()
    screenshot(page, "billing-forecast")
    assert_no_axe_violations(page)

    page.goto(live_server.url + reverse("billing:payment-plan"))
    overdue = page.locator("input[name=invoices]")
    for index in range(overdue.count()):
        overdue.nth(index).check()
    page.get_by_label("Liczba rat").select_option("3")
    page.get_by_role("button", name="Pokaż harmonogram").click()
    assert page.get_by_role("heading", name="Proponowany harmonogram").is_visible()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Wyślij wniosek").click()

    assert "Oczekuje na decyzję" in page.locator("main").inner_text()
    assert PaymentPlanRequest.objects.get().instalments == 3
    screenshot(page, "billing-payment-plan")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
