"""Property managers in a real browser: a manager of some points finds no e-invoice switch; the manager pages
(request form, overview, switcher, paying for several properties) pass axe (WCAG 2.1 AA) with no CSP errors."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import AccessRole
from tests import factories
from tests.browser.conftest import (
    PHONE,
    assert_no_axe_violations,
    assert_no_csp_violations,
    assert_no_horizontal_scroll,
    login,
    screenshot,
)
from tests.managers.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]
SWITCH = re.compile("Wniosek o przesyłanie faktur drogą elektroniczną|Zrezygnuj|Zmień adres", re.IGNORECASE)


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


def test_a_manager_of_some_points_finds_no_e_invoice_switch_anywhere(page, live_server, world):
    login(page, live_server, world.partial_manager.username, factories.PASSWORD)

    page.get_by_role("navigation", name="Menu główne").get_by_role("link", name="e-Faktura").click()

    card = page.get_by_role("region", name=re.compile(world.a.customer.number))
    expect(card).to_be_visible()
    expect(card.get_by_text("Zarządzasz tylko częścią punktów odbioru tego odbiorcy")).to_be_visible()
    expect(card.get_by_role("link", name=SWITCH)).to_have_count(0)
    expect(card.get_by_role("button")).to_have_count(0)
    assert_no_axe_violations(page)
    card.get_by_role("link", name="Historia i faktury wysłane e-mailem").click()
    expect(page.get_by_role("link", name=SWITCH)).to_have_count(0)
    assert_no_axe_violations(page)
    # Typing the address of the switch does not help either.
    response = page.goto(live_server.url + reverse("einvoice:request", args=[world.a.customer.pk]))
    assert response.status == 403
    assert_no_csp_violations(page)


def test_a_manager_of_all_points_does_find_the_switch(page, live_server, world):
    login(page, live_server, world.full_manager.username, factories.PASSWORD)

    page.goto(live_server.url + reverse("einvoice:index"))

    card = page.get_by_role("region", name=re.compile(world.a.customer.number))
    switch = card.get_by_role("link", name="Wniosek o przesyłanie faktur drogą elektroniczną", exact=True)
    expect(switch).to_be_visible()


def test_the_manager_pages_pass_axe(page, live_server, world):
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    page.goto(live_server.url + reverse("accounts:manager-request"))
    expect(page.get_by_role("heading", name="Dostęp dla zarządców nieruchomości")).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_label("NIP").fill("1234567890")
    page.get_by_role("button", name="Wyślij wniosek").click()
    expect(page.get_by_text("To nie jest prawidłowy NIP. Sprawdź 10 cyfr.")).to_be_visible()
    assert_no_axe_violations(page)

    login(page, live_server, world.full_manager.username, factories.PASSWORD)
    expect(page.get_by_role("link", name="Zobacz wszystkie nieruchomości")).to_be_visible()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Zobacz wszystkie nieruchomości").click()
    expect(page.get_by_role("heading", name="Twoje nieruchomości", level=1)).to_be_visible()
    assert_no_axe_violations(page)
    screenshot(page, "manager-overview")
    page.get_by_role("link", name="Saldo").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text(re.compile("Saldo"))
    assert_no_axe_violations(page)

    page.get_by_role("button", name=f"Pokaż {world.b.customer.number}").click()
    expect(page.get_by_role("link", name=f"Odbiorca {world.b.customer.number}: zmień")).to_be_visible()
    page.get_by_role("link", name=f"Odbiorca {world.b.customer.number}: zmień").click()
    expect(page.get_by_role("heading", name="Zmień odbiorcę")).to_be_visible()
    assert_no_axe_violations(page)

    page.goto(live_server.url + reverse("pages:manager-pay"))
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_the_overview_fits_a_phone(page, live_server, world):
    login(page, live_server, world.partial_manager.username, factories.PASSWORD)
    page.set_viewport_size(PHONE)

    page.goto(live_server.url + reverse("pages:manager-overview"))

    expect(page.get_by_text("Część punktów odbioru")).to_be_visible()
    assert_no_horizontal_scroll(page)
    assert_no_axe_violations(page)


def test_the_switcher_narrows_every_page_to_the_chosen_customer_and_back(page, live_server, world):
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    menu = page.get_by_role("navigation", name="Menu główne")
    a_invoice, b_invoice = world.a.invoices[0].number, world.b.invoices[0].number
    login(page, live_server, world.full_manager.username, factories.PASSWORD)
    page.goto(live_server.url + reverse("pages:manager-overview"))

    page.get_by_role("button", name=f"Pokaż {world.b.customer.number}").click()

    chosen = page.get_by_role("link", name=f"Odbiorca {world.b.customer.number}: zmień")
    expect(chosen).to_be_visible()
    assert_no_axe_violations(page)
    menu.get_by_role("link", name="Rozliczenia i faktury").click()
    expect(page.get_by_text(b_invoice).first).to_be_visible()
    expect(page.get_by_text(a_invoice)).to_have_count(0)
    expect(chosen).to_be_visible()  # the choice survives navigation
    assert_no_axe_violations(page)
    menu.get_by_role("link", name="Liczniki i odczyty").click()
    expect(page.get_by_text(world.b.meters[0].serial_number).first).to_be_visible()
    expect(page.get_by_text(world.a.meters[0].serial_number)).to_have_count(0)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Wszystkie moje nieruchomości").click()

    expect(page.get_by_text(world.a.meters[0].serial_number).first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Odbiorca .*: zmień$"))).to_have_count(0)
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
