"""Someone without an account reports a failure and lands on the private tracking page; both pass axe."""

import pytest
from django.urls import reverse

from tests.browser.conftest import (
    assert_no_axe_violations,
    assert_no_csp_violations,
    assert_no_horizontal_scroll,
    screenshot,
)
from tickets.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_failure_reported_without_an_account_is_followed_through_its_private_link(page, live_server):
    page.goto(live_server.url + reverse("reports:create"))
    assert page.get_by_role("heading", level=1).inner_text() == "Zgłoś awarię lub jakość wody"
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert_no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_label("Zgłoszenie awarii").check()
    page.get_by_label("Adres lub numer punktu odbioru").fill("ul. Lipowa 12, Przemyśl")
    page.get_by_label("Opis").fill("Woda wypływa z ulicy przy hydrancie.")
    page.get_by_role("button", name="Wyślij zgłoszenie").click()
    assert "Podaj adres e-mail lub numer telefonu" in page.locator("main").inner_text()
    assert_no_axe_violations(page)

    page.get_by_label("E-mail").fill("jan.zglaszajacy@example.pl")
    page.get_by_role("button", name="Wyślij zgłoszenie").click()

    case = Case.objects.get()
    assert page.get_by_role("heading", level=1).inner_text() == f"Zgłoszenie nr {case.pk}"
    assert "/report/" in page.url
    assert "Woda wypływa z ulicy przy hydrancie." in page.locator("main").inner_text()
    screenshot(page, "report-detail")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
