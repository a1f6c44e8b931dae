"""A customer pays two invoices online through the sandbox broker and sees them marked; billing pages pass axe."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from billing.models import OnlinePayment
from core.models import OutboxMessage
from tests import factories
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def sandbox_broker(settings, tmp_path):
    settings.IBOK_PAYMENT_SANDBOX = True
    settings.GETPAID_BACKEND_SETTINGS = {
        "przelewy24": {"merchant_id": 100001, "pos_id": 100001, "crc": "browser-crc", "transport": "sandbox"}
    }
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def household(transactional_db):
    """Jan Kowalski, customer 310044: two unpaid water invoices, one of them overdue, a payment from last month."""
    today = timezone.localdate()
    point = factories.DeliveryPointFactory(
        customer__number="310044",
        customer__name="Jan Kowalski",
        customer__bank_account="61109010140000071219812874",
    )
    customer = point.customer
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("432.00"), overdue=Decimal("162.00"))
    for number, issued in (("FV/01001/10/2026", 40), ("FV/01877/11/2026", 6)):
        invoice = factories.InvoiceFactory(
            customer=customer,
            delivery_point=point,
            number=number,
            issue_date=today - timedelta(days=issued),
            ksef_number=f"7952345678-{today:%Y%m%d}-0A1B2C3D4E5F-{issued:02d}",
            ksef_hash="47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
        )
        factories.InvoiceLineFactory(invoice=invoice, position=1)
    paid = factories.InvoiceFactory(
        customer=customer, delivery_point=point, number="FV/00777/09/2026", outstanding=Decimal("0.00")
    )
    payment = factories.PaymentFactory(customer=customer, paid_date=today - timedelta(days=30))
    factories.PaymentAllocationFactory(payment=payment, invoice=paid, amount=payment.amount)
    factories.SyncRunFactory()
    user = factories.UserFactory(username=customer.number, first_name="Jan", last_name="Kowalski")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer)
    return user


def test_customer_pays_two_invoices_through_the_sandbox_broker_and_sees_them_in_progress(page, live_server, household):
    login(page, live_server, "310044", factories.PASSWORD)
    page.goto(live_server.url + reverse("billing:pay"))
    assert_no_axe_violations(page)

    page.get_by_label("FV/01001/10/2026").check()
    page.get_by_label("FV/01877/11/2026").check()
    page.get_by_role("button", name="Przejdź do płatności").click()

    page.wait_for_url(re.compile(r".*/sandbox-broker/trnRequest/.*"))
    assert "325,00" in page.locator("main").inner_text()  # 2 × 162,00 zł and the 1,00 zł fee
    assert_no_axe_violations(page)
    screenshot(page, "sandbox-broker")
    page.get_by_role("button", name="Zapłać", exact=True).click()

    page.wait_for_url(re.compile(r".*/billing/pay/IBOK-.*"))
    assert "Dziękujemy" in page.locator("main").inner_text()
    assert_no_axe_violations(page)
    online_payment = OnlinePayment.objects.get()
    assert online_payment.paid_at is not None
    assert OutboxMessage.objects.filter(kind="online_payment").count() == 1

    page.goto(live_server.url + reverse("billing:index"))
    rows = page.locator("tbody tr")
    for number in ("FV/01001/10/2026", "FV/01877/11/2026"):
        assert "Płatność w toku" in rows.filter(has_text=number).inner_text()
    assert "Płatność w toku" not in rows.filter(has_text="FV/00777/09/2026").inner_text()
    page.goto(live_server.url + reverse("pages:dashboard"))
    assert page.locator("main").inner_text().count("Płatność w toku") == 2
    assert_no_csp_violations(page)


@pytest.mark.parametrize(
    "name",
    [
        "billing:index",
        "billing:settlements",
        "billing:payments",
        "billing:transfer",
        "billing:calendar",
        "billing:forecast",
        "billing:payment-plan",
    ],
)
def test_billing_pages_pass_axe(page, live_server, household, name):
    login(page, live_server, "310044", factories.PASSWORD)

    page.goto(live_server.url + reverse(name))

    assert page.locator("h1").is_visible()
    screenshot(page, name.replace(":", "-"))
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_invoice_detail_passes_axe_and_offers_the_pdf(page, live_server, household):
    login(page, live_server, "310044", factories.PASSWORD)
    page.goto(live_server.url + reverse("billing:index"))

    page.get_by_role("link", name="FV/01877/11/2026", exact=True).click()

    assert page.get_by_role("heading", level=1).inner_text().endswith("FV/01877/11/2026")
    assert page.get_by_role("link", name="Pobierz PDF").is_visible()
    screenshot(page, "invoice-detail")
    assert_no_axe_violations(page)


def test_payment_page_passes_axe_and_lists_what_the_payment_settled(page, live_server, household):
    login(page, live_server, "310044", factories.PASSWORD)
    payment = household.customer_accesses.get().customer.payments.get()

    page.goto(live_server.url + reverse("billing:payment-detail", kwargs={"payment_id": payment.pk}))

    assert "FV/00777/09/2026" in page.locator("main").inner_text()
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
