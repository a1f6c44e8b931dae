"""In Chromium: the service worker installs from the portal's own origin; with the network gone a page shows the
translated offline page; the device's caches then hold the offline page and its static files, never a page of
the customer's."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from tests import factories
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_offline_a_signed_in_customer_gets_the_offline_page_and_nothing_of_theirs_is_cached(page, live_server):
    user = factories.UserFactory(username="0100248")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=factories.DeliveryPointFactory().customer)
    factories.SyncRunFactory()
    login(page, live_server, "0100248", factories.PASSWORD)
    page.goto(live_server.url + reverse("billing:index"))
    page.wait_for_function("navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now controlled by the worker

    page.context.set_offline(True)
    page.goto(live_server.url + reverse("billing:payments"))

    assert page.locator("h1").inner_text() == "Brak połączenia"
    assert_no_axe_violations(page)
    cached = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
            }
            return urls;
        }"""
    )
    assert reverse("pages:offline") in cached
    assert all(url == reverse("pages:offline") or url.startswith("/static/") for url in cached), cached
    page.context.set_offline(False)
    page.goto(live_server.url + reverse("billing:payments"))
    assert page.locator("h1").inner_text() != "Brak połączenia"
    assert_no_csp_violations(page)
