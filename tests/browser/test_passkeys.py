"""A customer adds a passkey from the dashboard's offer and then signs in with it alone (no password, no CAPTCHA),
on Chromium's virtual authenticator (the DevTools protocol's WebAuthn domain); axe finds nothing on the pages."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts.models import LoginEvent
from tests import factories
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def customer(transactional_db):
    point = factories.DeliveryPointFactory(customer__number="204518", customer__name="Anna Wiśniewska")
    user = factories.UserFactory(username="204518", first_name="Anna", last_name="Wiśniewska")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    return user


@pytest.fixture
def authenticator(page):
    """A platform authenticator with resident keys and user verification, as a phone's fingerprint reader is."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_customer_adds_a_passkey_from_the_offer_and_signs_in_with_it_alone(page, live_server, customer, authenticator):
    cdp, authenticator_id = authenticator
    login(page, live_server, "204518", factories.PASSWORD)

    offer = page.get_by_role("region", name="Loguj się szybciej kluczem dostępu")
    assert offer.is_visible()
    screenshot(page, "passkey-offer")
    assert_no_axe_violations(page)
    offer.get_by_role("link", name="Dodaj klucz dostępu").click()
    page.wait_for_url(live_server.url + reverse("mfa_add_webauthn"))
    assert page.locator("input[name=passwordless]").is_checked()
    assert_no_axe_violations(page)
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: reverse("mfa_add_webauthn") not in url)

    passkey = Authenticator.objects.get(user=customer, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().is_passwordless is True
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]
    assert_no_csp_violations(page)

    page.context.clear_cookies()  # signed out; the authenticator (the phone) keeps the passkey
    page.goto(live_server.url + reverse("account_login"))
    assert page.locator("iframe[src*=recaptcha]").count() == 0
    assert_no_axe_violations(page)
    page.locator("#passkey_login").click()  # no login, no password typed

    page.wait_for_url(live_server.url + reverse("pages:dashboard"))
    assert page.get_by_role("heading", level=1).inner_text() == "Pulpit"
    assert page.get_by_role("region", name="Loguj się szybciej kluczem dostępu").count() == 0
    screenshot(page, "passkey-dashboard")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)
    assert LoginEvent.objects.filter(user=customer, succeeded=True).count() == 2
