"""Lista spraw in a real browser: a customer opens a case with an attachment, staff reply in the admin,
the unread count shows 1 and drops to 0 once the reply is read; every customer page passes axe (WCAG 2.1 AA)."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.browser.conftest import (
    PHONE,
    assert_no_axe_violations,
    assert_no_csp_violations,
    assert_no_horizontal_scroll,
    login,
    screenshot,
)
from tests.tickets.conftest import make_pdf
from tickets.models import Attachment, Case, CaseStatus, Sender

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def household(transactional_db):
    point = factories.DeliveryPointFactory(
        customer__number="204518",
        customer__name="Anna Wiśniewska",
        customer__street="ul. Słowackiego",
        customer__building="12",
        customer__apartment="4",
        customer__postal_code="37-700",
        customer__city="Przemyśl",
    )
    user = factories.UserFactory(username="204518", first_name="Anna", last_name="Wiśniewska")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    return user


@pytest.fixture
def clerk(transactional_db):
    user = factories.UserFactory(username="urzednik", first_name="Ewa", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return user


def _staff_page(browser, live_server, user):
    """A separate browser for the clerk, signed in with a session made on the server (the admin login asks for
    the second factor, which is not what this test is about)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="pl-PL")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context, context.new_page()


def _cases_link(page):
    return page.get_by_role("navigation", name="Menu główne").get_by_role("link", name=re.compile("^Lista spraw"))


def test_case_with_attachment_staff_reply_and_unread_count(page, browser, live_server, household, clerk, tmp_path):
    scan = tmp_path / "skan faktury.pdf"
    scan.write_bytes(make_pdf())
    login(page, live_server, "204518", factories.PASSWORD)

    # The customer opens a new case with an attachment.
    _cases_link(page).click()
    page.get_by_role("link", name="Nowa sprawa").first.click()
    assert_no_axe_violations(page)
    page.get_by_label("Typ sprawy").select_option("COMPLAINT")
    page.get_by_label("Temat").fill("Reklamacja odczytu z października")
    page.get_by_label("Opis").fill("Odczyt z 31.10 jest wyższy niż stan licznika. Skan faktury w załączniku.")
    page.get_by_label("Załączniki").set_input_files(str(scan))
    page.get_by_role("button", name="Wyślij sprawę").click()

    case = Case.objects.get()
    page.wait_for_url(live_server.url + reverse("tickets:case-detail", kwargs={"case_id": case.pk}))
    assert page.get_by_role("status").inner_text().strip() == f"Sprawa nr {case.pk} została wysłana."
    assert page.get_by_role("link", name="skan faktury.pdf").is_visible()
    assert Attachment.objects.get().original_name == "skan faktury.pdf"
    screenshot(page, "case-detail-new")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)

    # A clerk replies in the admin, through the case's change form.
    staff_context, staff_page = _staff_page(browser, live_server, clerk)
    staff_page.goto(live_server.url + reverse("admin:tickets_case_change", args=[case.pk]))
    assert "Odczyt z 31.10" in staff_page.locator("main, #content").first.inner_text()
    staff_page.get_by_label("Status").select_option(CaseStatus.WAITING_FOR_CUSTOMER)
    staff_page.get_by_label("Odpowiedź dla odbiorcy").fill("Prosimy o zdjęcie wodomierza z widocznym stanem.")
    staff_page.get_by_label("Notatka wewnętrzna").fill("Sprawdzić odczyt inkasenta.")
    screenshot(staff_page, "admin-case-change")
    staff_page.locator("input[name=_save]").click()
    staff_page.wait_for_url(re.compile(r".*/admin/tickets/case/(\?.*)?$"))
    staff_context.close()
    assert case.messages.filter(sender=Sender.STAFF).count() == 1

    # The customer sees one unread reply, beside "Lista spraw" and in the list.
    page.goto(live_server.url + reverse("tickets:index"))
    assert _cases_link(page).locator(".count-badge").inner_text().startswith("1")
    row = page.get_by_role("row").filter(has_text="Reklamacja odczytu z października")
    assert row.get_by_role("cell").last.inner_text().strip() == "1"
    assert "Oczekuje na Twoją odpowiedź" in row.inner_text()
    screenshot(page, "case-list-unread")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)

    # Reading the reply makes the count 0; the internal note is never shown.
    row.get_by_role("link", name="Reklamacja odczytu z października").click()
    main = page.locator("main")
    assert "Prosimy o zdjęcie wodomierza z widocznym stanem." in main.inner_text()
    assert "Sprawdzić odczyt inkasenta." not in page.content()
    page.goto(live_server.url + reverse("tickets:index"))
    assert _cases_link(page).locator(".count-badge").count() == 0
    assert row.get_by_role("cell").last.inner_text().strip() == "0"
    assert_no_axe_violations(page)


def test_case_pages_fit_a_phone_and_pass_axe(page, live_server, household):
    case = factories.CaseFactory(customer=household.customer_accesses.get().customer, subject="Brak ciepłej wody")
    factories.MessageFactory(case=case, author=household)
    factories.MessageFactory(case=case, sender=Sender.STAFF, body="Usuwamy awarię.")
    login(page, live_server, "204518", factories.PASSWORD)
    page.set_viewport_size(PHONE)

    for url in (
        reverse("tickets:index"),
        reverse("tickets:case-detail", kwargs={"case_id": case.pk}),
        reverse("tickets:message-list"),
        reverse("tickets:request-list"),
        reverse("tickets:request-create", kwargs={"kind": "meter-problem"}),
    ):
        page.goto(live_server.url + url)
        assert_no_horizontal_scroll(page)
        assert_no_axe_violations(page)
        assert_no_csp_violations(page)
    screenshot(page, "case-request-phone")


def test_advanced_search_opens_with_its_errors_announced(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)
    page.goto(live_server.url + reverse("tickets:index") + "?date_from=2026-11-20&date_to=2026-11-01")

    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Wysłane do").get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(page)
