"""Playwright on Debian's Chromium against pytest-django's live_server, with an axe-core check.

Never downloads a browser: /usr/bin/chromium is the system package.
"""

import os
from pathlib import Path

import axe_playwright_python
import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls from it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Page:
    """A fresh context per test: no cookies shared, Polish like most customers, the portal's CSP enforced.

    A CSP violation (inline script or style) is a bug: the page records them in `page.csp_violations`.
    """
    context = browser.new_context(locale="pl-PL", viewport=DESKTOP)
    page = context.new_page()
    page.csp_violations = []

    def record_csp_violation(message) -> None:
        if "Content Security Policy" in message.text:
            page.csp_violations.append(message.text)

    page.on("console", record_csp_violation)
    yield page
    context.close()


def assert_no_axe_violations(page: Page) -> None:
    """Run axe-core with the WCAG 2.1 A and AA rules on the current page; fail listing every violation.

    page.evaluate goes through the DevTools protocol, so the portal's CSP (no inline script) does not block it.
    """
    page.evaluate(AXE_SCRIPT)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA_TAGS,
    )
    violations = results["violations"]
    if violations:
        lines = [f"{len(violations)} axe violation(s) on {page.url}:"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.extend(f"    {', '.join(node['target'])}: {node['failureSummary']}" for node in violation["nodes"])
        pytest.fail("\n".join(lines), pytrace=False)


def assert_no_csp_violations(page: Page) -> None:
    assert page.csp_violations == [], page.csp_violations


def assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], f"page is {widths['scroll']}px wide in a {widths['client']}px window"


def login(page: Page, live_server, username: str, password: str) -> None:
    """Sign in through the real login form, as a customer would, and wait for the dashboard."""
    page.goto(live_server.url + reverse("account_login"))
    page.get_by_label("Numer odbiorcy lub e-mail").fill(username)
    page.get_by_label("Hasło", exact=True).fill(password)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(live_server.url + reverse("pages:dashboard"))


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot when IBOK_SCREENSHOT_DIR is set (for looking at the design by eye)."""
    folder = os.environ.get("IBOK_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
