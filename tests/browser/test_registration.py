"""A demo customer registers from the e-mail it receives, sets a password, signs in with the customer number and
sees the dashboard; axe (WCAG 2.1 AA) finds nothing on any of these pages and the CSP is never violated."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import TermsVersion
from tests import factories
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "Ciepłownia2026"


@pytest.fixture
def demo_customer(transactional_db):
    """Customer 204518 whose last invoice is FV/02291/11/2026; the terms are published."""
    TermsVersion.objects.create(
        version="2026-01", title="Regulamin iBOK", body="§ 1.", published_at=timezone.now() - timedelta(days=1)
    )
    point = factories.DeliveryPointFactory(customer__number="204518", customer__name="Anna Wiśniewska")
    factories.InvoiceFactory(
        customer=point.customer, number="FV/02291/11/2026", issue_date=date(2026, 11, 5), net=Decimal("972.44")
    )
    factories.CustomerBalanceFactory(customer=point.customer, balance=Decimal("1050.24"))
    return point.customer


def test_demo_customer_registers_from_the_email_sets_a_password_and_signs_in_with_the_number(
    page, live_server, demo_customer
):
    page.goto(live_server.url + reverse("account_login"))
    page.get_by_role("link", name="zarejestruj się").click()
    page.wait_for_url(live_server.url + reverse("accounts:register"))
    screenshot(page, "register")
    assert_no_axe_violations(page)

    page.get_by_label("Nr odbiorcy", exact=True).fill("204518")
    page.get_by_label("Numer ostatniej faktury").fill("FV/02291/11/2026")
    page.get_by_label("E-mail").fill("anna.wisniewska@example.pl")
    page.get_by_label("Akceptuję regulamin portalu").check()
    page.get_by_label("Zgadzam się na przetwarzanie danych").check()
    page.get_by_label("Zgadzam się na otrzymywanie e-faktur").check()
    page.get_by_role("button", name="Zarejestruj się").click()
    page.wait_for_url(live_server.url + reverse("accounts:register-sent"))
    assert page.get_by_role("heading", name="Sprawdź skrzynkę e-mail").is_visible()
    screenshot(page, "register-sent")
    assert_no_axe_violations(page)

    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/register/confirm/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    assert page.get_by_text("Hasło krótsze niż 16 znaków musi zawierać wielką literę").is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Nowe hasło").fill(PASSWORD)
    page.get_by_label("Powtórz hasło").fill(PASSWORD)
    page.get_by_role("button", name="Zapisz").click()
    page.wait_for_url(live_server.url + reverse("account_login"))
    assert page.get_by_text("Twoje konto jest aktywne.").is_visible()
    assert_no_axe_violations(page)
    assert len(mail.outbox) == 2
    assert "204518" in mail.outbox[1].body

    login(page, live_server, "204518", PASSWORD)
    main = page.locator("main").inner_text()
    assert "204518" in main
    assert "Witamy! To Twoje pierwsze logowanie." in page.locator(".messages").inner_text()
    screenshot(page, "dashboard-after-registration")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_settings_page_passes_axe(page, live_server, demo_customer):
    user = factories.UserFactory(username="204518", email="anna.wisniewska@example.pl")
    factories.CustomerAccessFactory(user=user, customer=demo_customer)
    from accounts.models import Consent, ConsentKind

    Consent.objects.create(
        user=user, kind=ConsentKind.TERMS, terms_version=TermsVersion.objects.get(), recorded_at=timezone.now()
    )
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    login(page, live_server, "204518", factories.PASSWORD)
    page.goto(live_server.url + reverse("accounts:settings"))

    assert page.get_by_role("heading", name="Ustawienia", level=1).is_visible()
    screenshot(page, "settings")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
