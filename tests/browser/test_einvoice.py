"""e-Faktura in a real browser: a customer opts in with an address other than the account's, opens the link
from the e-mail, and sees the service active; every page on the way passes axe (WCAG 2.1 AA) with no CSP errors."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from einvoice.models import Consent, ConsentStatus
from tests import factories
from tests.browser.conftest import (
    PHONE,
    assert_no_axe_violations,
    assert_no_csp_violations,
    assert_no_horizontal_scroll,
    login,
    screenshot,
)
from tests.einvoice.conftest import published_terms

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]
LINK = re.compile(r"https?://[^\s\"]+/einvoice/confirm/[^/\s\"]+/")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def household(transactional_db):
    published_terms()
    point = factories.DeliveryPointFactory(customer__number="204518", customer__name="Anna Wiśniewska")
    user = factories.UserFactory(username="204518", first_name="Anna", last_name="Wiśniewska", email="anna@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    return user


def test_opt_in_with_another_address_confirmed_from_the_email_makes_the_service_active(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)

    page.get_by_role("navigation", name="Menu główne").get_by_role("link", name="e-Faktura").click()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Wniosek o przesyłanie faktur drogą elektroniczną", exact=True).click()
    assert page.get_by_role("heading", name=re.compile("Regulamin e-faktury")).is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Adres e-mail do przesyłania faktur").fill("ksiegowosc@example.pl")
    page.get_by_label("Znam regulamin e-faktury i akceptuję go").check()
    page.get_by_role("button", name="Zatwierdź").click()

    expect(page).to_have_url(live_server.url + reverse("einvoice:index"))
    assert page.get_by_text("Czeka na potwierdzenie", exact=True).is_visible()
    assert_no_axe_violations(page)
    screenshot(page, "einvoice-waiting")
    [message] = [m for m in mail.outbox if m.to == ["ksiegowosc@example.pl"]]
    link = LINK.search(message.body).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Potwierdź adres").click()
    expect(page).to_have_url(live_server.url + reverse("einvoice:verified"))
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Przejdź do strony e-faktury").click()

    assert page.get_by_text("Aktywna", exact=True).is_visible()
    assert page.get_by_text(re.compile("Faktury przychodzą e-mailem na adres ksiegowosc@example.pl")).is_visible()
    assert Consent.objects.get().status == ConsentStatus.ACTIVE
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Historia i faktury wysłane e-mailem").click()
    assert (
        page.get_by_role("cell", name="Uruchomiono e-faktury").is_visible()
        or page.get_by_role("rowheader", name="Uruchomiono e-faktury").is_visible()
    )
    assert_no_axe_violations(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    assert_no_csp_violations(page)
    screenshot(page, "einvoice-history")


def test_the_change_and_resignation_forms_pass_axe(page, live_server, household):
    customer = household.customer_accesses.get().customer
    login(page, live_server, "204518", factories.PASSWORD)
    page.goto(live_server.url + reverse("einvoice:request", kwargs={"customer_id": customer.pk}))
    page.get_by_label("Znam regulamin e-faktury i akceptuję go").check()
    page.get_by_role("button", name="Zatwierdź").click()
    expect(page).to_have_url(live_server.url + reverse("einvoice:index"))

    page.get_by_role("link", name="Zmień adres do e-faktur").click()
    assert_no_axe_violations(page)
    page.goto(live_server.url + reverse("einvoice:resignation", kwargs={"customer_id": customer.pk}))
    page.get_by_label("Faktury papierowe od").fill("2020-01-01")
    page.get_by_role("button", name="Zrezygnuj z e-faktur").click()

    assert page.get_by_text("nie może być w przeszłości").is_visible()
    assert_no_axe_violations(page)
    page.goto(live_server.url + reverse("einvoice:terms"))
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
