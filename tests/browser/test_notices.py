"""Komunikaty and notifications in a real browser: staff publish an outage in the admin, the affected customer
sees it marked on the dashboard (and is told by e-mail, having asked); the notices pages pass axe (WCAG 2.1 AA)."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notices.models import (
    Announcement,
    AnnouncementKind,
    Channel,
    Document,
    DocumentCategory,
    Kind,
    NotificationPreference,
)
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

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IBOK_SMS_BACKEND = "notices.sms.LocalBackend"


@pytest.fixture
def household(transactional_db):
    """Anna Wiśniewska, customer 204518 at ul. Słowackiego 12/4 in Przemyśl, who asked for outage e-mails."""
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
    NotificationPreference.objects.create(
        user=user, kind=Kind.OUTAGE, channel=Channel.EMAIL, enabled=True, updated_at=timezone.now()
    )
    return user


@pytest.fixture
def dispatcher(transactional_db):
    user = factories.UserFactory(username="dyspozytor", first_name="Ewa", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return user


def _staff_page(browser, live_server, user):
    """The dispatcher's own browser, signed in with a session made on the server (the admin's second factor is
    not what this test is about)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="pl-PL")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context, context.new_page()


def test_staff_publish_an_outage_and_the_affected_customer_sees_it_on_the_dashboard(
    page, browser, live_server, household, dispatcher
):
    start = timezone.localtime() - timedelta(minutes=10)
    end = start + timedelta(hours=8)

    # The dispatcher publishes an outage for two streets in the admin.
    staff_context, staff_page = _staff_page(browser, live_server, dispatcher)
    staff_page.goto(live_server.url + reverse("admin:notices_announcement_add"))
    staff_page.locator("#id_kind").select_option(AnnouncementKind.OUTAGE)
    staff_page.locator("#id_title").fill("Awaria sieci wodociągowej na Zasaniu")
    staff_page.locator("#id_body").fill("Brak wody do godz. 18:00. Beczkowóz stoi przy ul. Słowackiego 10.")
    staff_page.locator("#id_starts_at_0").fill(start.strftime("%Y-%m-%d"))
    staff_page.locator("#id_starts_at_1").fill(start.strftime("%H:%M:%S"))
    staff_page.locator("#id_ends_at_0").fill(end.strftime("%Y-%m-%d"))
    staff_page.locator("#id_ends_at_1").fill(end.strftime("%H:%M:%S"))
    staff_page.locator("#id_city").fill("Przemyśl")
    staff_page.locator("#id_streets").fill("Słowackiego\nMickiewicza")
    staff_page.locator("#id_published").check()
    screenshot(staff_page, "admin-announcement-add")
    staff_page.locator("input[name=_save]").click()
    staff_page.wait_for_url(re.compile(r".*/admin/notices/announcement/(\?.*)?$"))
    assert "Komunikat obejmuje 1 punkt odbioru." in staff_page.locator("body").inner_text()
    staff_context.close()
    assert Announcement.objects.get().published_at is not None

    # The customer who lives there sees it on the dashboard, marked as theirs, and got an e-mail.
    login(page, live_server, "204518", factories.PASSWORD)
    section = page.get_by_role("region", name="Komunikaty")
    assert section.get_by_role("heading", name="Awaria sieci wodociągowej na Zasaniu").is_visible()
    assert "Dotyczy Twojego punktu odbioru" in section.inner_text()
    assert "Przemyśl: Słowackiego, Mickiewicza" in section.inner_text()
    assert [message.to for message in mail.outbox] == [[household.email]]
    screenshot(page, "dashboard-announcement")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_the_login_page_shows_current_announcements_and_passes_axe(page, live_server, transactional_db):
    Announcement.objects.create(
        kind=AnnouncementKind.PLANNED_WORKS,
        title="Płukanie sieci ciepłowniczej",
        body="W dniach 23–24 listopada możliwe chwilowe spadki temperatury.",
        starts_at=timezone.now() - timedelta(hours=1),
        city="Przemyśl",
        published=True,
        created_at=timezone.now(),
    )

    page.goto(live_server.url + reverse("account_login"))

    assert page.get_by_role("heading", name="Płukanie sieci ciepłowniczej").is_visible()
    assert page.get_by_label("Numer odbiorcy lub e-mail").is_visible()
    screenshot(page, "login-announcements")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_notices_pages_fit_a_phone_and_pass_axe(page, live_server, household):
    customer = household.customer_accesses.get().customer
    for title, owner, category in (
        ("Wniosek o przesyłanie faktur drogą elektroniczną", None, DocumentCategory.FORM),
        ("Umowa kompleksowa UW/2021/00001", customer, DocumentCategory.CONTRACT),
    ):
        document = Document(
            title=title,
            category=category,
            customer=owner,
            original_name="dokument.pdf",
            size=len(make_pdf()),
            published_at=timezone.now() - timedelta(days=1),
            uploaded_at=timezone.now(),
        )
        document.file.save("dokument.pdf", ContentFile(make_pdf()), save=False)
        document.save()
    login(page, live_server, "204518", factories.PASSWORD)

    page.get_by_role("navigation", name="Menu główne").get_by_role("link", name="Dokumenty").click()
    assert page.get_by_role("link", name="Umowa kompleksowa UW/2021/00001").is_visible()
    assert_no_axe_violations(page)

    page.goto(live_server.url + reverse("notices:settings"))
    page.get_by_label("e-monit: zbliża się termin płatności: E-mail").check()
    page.get_by_role("button", name="Zapisz ustawienia powiadomień").click()
    assert page.get_by_role("status").inner_text().strip() == "Ustawienia powiadomień zostały zapisane."
    assert page.get_by_label("e-monit: zbliża się termin płatności: E-mail").is_checked()
    screenshot(page, "notice-settings")
    assert_no_axe_violations(page)

    page.set_viewport_size(PHONE)
    for url in (
        reverse("notices:settings"),
        reverse("notices:sent"),
        reverse("notices:announcements"),
        reverse("notices:documents"),
    ):
        page.goto(live_server.url + url)
        assert_no_horizontal_scroll(page)
        assert_no_axe_violations(page)
        assert_no_csp_violations(page)
