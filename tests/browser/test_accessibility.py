"""Every page of the shell passes axe (WCAG 2.1 A and AA), keeps to the CSP and fits a 320-pixel phone."""

import pytest
from django.urls import reverse

from tests import factories
from tests.browser.conftest import (
    assert_no_axe_violations,
    assert_no_csp_violations,
    assert_no_horizontal_scroll,
    login,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PUBLIC_PAGES = ["account_login", "account_signup", "account_reset_password", "pages:accessibility"]


@pytest.mark.parametrize("url_name", PUBLIC_PAGES)
def test_public_page_passes_axe_on_desktop_and_phone(page, live_server, url_name):
    page.goto(live_server.url + reverse(url_name))

    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert_no_horizontal_scroll(page)
    assert_no_axe_violations(page)


@pytest.mark.parametrize("url_name", ["tickets:index", "account_email", "mfa_index", "api-tokens:list"])
def test_signed_in_page_passes_axe(page, live_server, customer_user, url_name):
    login(page, live_server, customer_user.username, factories.PASSWORD)

    page.goto(live_server.url + reverse(url_name))

    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_main_content(page, live_server):
    page.goto(live_server.url + reverse("pages:accessibility"))

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Przejdź do treści głównej")
    assert skip_link.evaluate("element => element === document.activeElement")
    page.keyboard.press("Enter")

    assert page.evaluate("() => document.activeElement.id") == "main"
