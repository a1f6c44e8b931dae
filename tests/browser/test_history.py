"""A housing community pages through its settlements and payments with "Pokaż więcej": plain links that keep the
filters, axe clean, the allocations of a payment behind a summary."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.billing.test_history_pages import documents, points_of
from tests.browser.conftest import assert_no_axe_violations, assert_no_csp_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def community(transactional_db):
    """Wspólnota Mieszkaniowa, customer 520011: three points, 200 monthly documents and their payments, a
    collective transfer settling twelve of them."""
    point = factories.DeliveryPointFactory(customer__number="520011", customer__name="Wspólnota Mieszkaniowa Lipowa")
    customer = point.customer
    documents(customer, points_of(customer, 3), 200, settled_by_one=12)
    factories.SyncRunFactory()
    user = factories.UserFactory(username=customer.number)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer)
    return customer


def test_show_more_pages_the_settlements_keeping_the_period_and_the_point(page, live_server, community):
    login(page, live_server, community.number, factories.PASSWORD)
    point = community.delivery_points.order_by("id")[1]
    since = timezone.localdate() - timedelta(days=3650)
    page.goto(live_server.url + reverse("billing:settlements"))
    page.get_by_role("textbox", name="Od", exact=True).fill(f"{since:%Y-%m-%d}")
    page.get_by_label("Punkt odbioru").select_option(str(point.pk))
    page.get_by_role("button", name="Pokaż", exact=True).click()
    first = page.locator("tbody tr").all_inner_texts()
    assert len(first) == 50
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Pokaż więcej").click()

    page.wait_for_url(re.compile(r".*page=2.*"))
    assert f"point={point.pk}" in page.url and f"date_from={since:%Y-%m-%d}" in page.url
    second = page.locator("tbody tr").all_inner_texts()
    assert second and not set(first) & set(second)
    assert page.get_by_label("Punkt odbioru").input_value() == str(point.pk)
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_a_payments_invoices_open_from_its_summary_and_the_payment_page_lists_them_all(page, live_server, community):
    login(page, live_server, community.number, factories.PASSWORD)
    page.goto(live_server.url + reverse("billing:payments"))
    summary = page.locator("summary", has_text="12 faktur")
    assert not page.get_by_role("link", name="Wszystkie na stronie wpłaty").is_visible()

    summary.click()

    assert page.get_by_role("link", name="Wszystkie na stronie wpłaty").is_visible()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Wszystkie na stronie wpłaty").click()
    page.wait_for_url(re.compile(r".*/payments/\d+/$"))
    assert page.locator("tbody tr").count() == 12
    assert_no_axe_violations(page)
    page.goto(live_server.url + reverse("billing:payments"))
    page.get_by_role("link", name="Pokaż więcej").click()
    page.wait_for_url(re.compile(r".*page=2.*"))
    assert page.locator("main details").count() == 25
    assert_no_axe_violations(page)


def test_the_meters_page_pages_the_points_and_opens_removed_meters(page, live_server, community):
    for point in community.delivery_points.all():
        factories.MeterFactory(delivery_point=point)
    contract = community.delivery_points.first().contract
    for _ in range(10):  # ten more points, thirteen in all
        point = factories.DeliveryPointFactory(customer=community, contract=contract)
        factories.MeterFactory(delivery_point=point)
        factories.MeterFactory(delivery_point=point, removed_date=timezone.localdate() - timedelta(days=400))
    login(page, live_server, community.number, factories.PASSWORD)
    page.goto(live_server.url + reverse("meters:index"))
    assert page.locator("section.meters-point").count() == 10
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Pokaż więcej").click()

    page.wait_for_url(re.compile(r".*page=2.*"))
    assert page.locator("section.meters-point").count() == 3
    removed = page.locator("details.meters-removed").first
    removed.locator("summary").click()
    assert removed.locator("table").is_visible()
    assert_no_axe_violations(page)
