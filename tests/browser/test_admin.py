"""The office's admin in a real browser: axe (WCAG 2.1 A and AA) finds nothing on its pages, which are in Polish
and titled with the utility's name."""

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.browser.conftest import AXE_SCRIPT, WCAG_21_AA_TAGS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def clerk_page(browser, live_server):
    """A superuser with a second factor, signed in with a session made on the server (the admin's login asks for
    the second factor, which is not what these tests are about)."""
    clerk = factories.UserFactory(username="urzednik", first_name="Ewa", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=clerk, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client = Client()
    client.force_login(clerk)
    context = browser.new_context(locale="pl-PL", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.clerk = clerk
    yield page
    context.close()


@pytest.fixture
def office_data(db):
    invoice = factories.InvoiceFactory()
    case = factories.CaseFactory(customer=invoice.customer)
    return {"invoice": invoice, "customer": invoice.customer, "case": case}


def admin_pages(data, clerk) -> list[str]:
    return [
        reverse("admin:index"),
        reverse("admin:accounts_customer_changelist"),
        reverse("admin:accounts_customer_changelist") + f"?q={data['customer'].number}",
        reverse("admin:accounts_customer_change", args=[data["customer"].pk]),
        reverse("admin:billing_invoice_changelist"),
        reverse("admin:billing_invoice_change", args=[data["invoice"].pk]),
        reverse("admin:tickets_case_changelist"),
        reverse("admin:accounts_user_change", args=[clerk.pk]),
        reverse("admin:getpaid_payment_changelist"),
        reverse("admin:mfa_authenticator_changelist"),
        reverse("admin:core_auditlogentry_changelist"),
        reverse("admin:tickets_case_change", args=[data["case"].pk]),
    ]


def axe_violations(page) -> list[str]:
    page.evaluate(AXE_SCRIPT)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA_TAGS,
    )
    found = []
    for violation in results["violations"]:
        where = ", ".join(node["target"][0] for node in violation["nodes"])
        found.append(f"{page.url}: {violation['id']} ({violation['help']}) at {where}")
    return found


def test_admin_pages_pass_axe_in_polish_under_the_utility_name(clerk_page, live_server, office_data):
    violations = []
    for path in admin_pages(office_data, clerk_page.clerk):
        clerk_page.goto(live_server.url + path)

        assert settings.IBOK_UTILITY_NAME in clerk_page.title(), path
        assert clerk_page.locator("html").get_attribute("lang") == "pl", path
        assert "Django" not in clerk_page.locator("#header").inner_text(), path
        violations += axe_violations(clerk_page)

    assert violations == [], "\n".join(violations)
