"""A customer gives a meter reading and sees it pending; the meter pages, chart included, pass axe (WCAG 2.1 AA)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from meters.models import MeterKind, Reading, ReadingStatus
from tests import factories
from tests.browser.conftest import (
    PHONE,
    assert_no_axe_violations,
    assert_no_csp_violations,
    assert_no_horizontal_scroll,
    login,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def household(transactional_db, settings):
    """Customer 204518 with a main meter read monthly for two years (0.3 m³ a day) and a garden submeter."""
    settings.IBOK_READING_WINDOW_DAYS = "1-31"  # any day: the test must not depend on the calendar
    today = timezone.localdate()
    point = factories.DeliveryPointFactory(
        customer__number="204518",
        customer__name="Anna Wiśniewska",
        contract__valid_from=date(2020, 1, 1),
        contract__signed_date=date(2019, 12, 15),
    )
    meter = factories.MeterFactory(
        delivery_point=point,
        serial_number="WM2021001",
        installed_date=date(2020, 1, 1),
        legalization_valid_until=today + timedelta(days=30),
    )
    factories.MeterFactory(delivery_point=point, serial_number="POD-77", kind=MeterKind.SUB)
    day, value = today.replace(day=1) - timedelta(days=730), Decimal("100")
    while day < today - timedelta(days=5):
        factories.ReadingFactory(meter=meter, read_date=day, value=value)
        day += timedelta(days=30)
        value += Decimal("9.000")
    user = factories.UserFactory(username="204518", first_name="Anna", last_name="Wiśniewska")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    user.meter = meter
    user.last_value = value - Decimal("9.000")
    return user


def test_customer_gives_a_reading_and_sees_it_pending(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)
    page.get_by_role("link", name="Liczniki i odczyty").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Liczniki i odczyty"
    assert "Traci ważność za 30 dni" in page.locator("main").inner_text()
    screenshot(page, "meters-index")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)

    page.get_by_role("link", name=re.compile(r"^Podaj odczyt\W+WM2021001$")).click()
    assert_no_axe_violations(page)
    page.get_by_label("Stan licznika").fill(f"{household.last_value + Decimal('3.5')}".replace(".", ","))
    page.get_by_role("button", name="Wyślij odczyt").click()

    page.wait_for_url(live_server.url + reverse("meters:meter", args=[household.meter.pk]))
    main = page.locator("main")
    assert "oczekuje na potwierdzenie" in page.get_by_role("status").inner_text()
    first_row = main.locator("tbody tr").first
    assert "Oczekuje" in first_row.inner_text()
    assert "Samoodczyt" in first_row.inner_text()
    reading = Reading.objects.get(status=ReadingStatus.PENDING)
    assert reading.value == household.last_value + Decimal("3.5")
    screenshot(page, "meters-history")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_a_value_below_the_last_reading_is_announced_next_to_the_field(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)
    page.goto(live_server.url + reverse("meters:reading-create", args=[household.meter.pk]))

    page.get_by_label("Stan licznika").fill("1")
    page.get_by_role("button", name="Wyślij odczyt").click()

    assert page.get_by_role("alert").is_visible()
    assert "niższe niż ostatni odczyt" in page.locator("main").inner_text()
    assert page.get_by_label("Stan licznika").get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(page)
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()


def test_consumption_chart_and_table_are_accessible_and_fit_a_phone(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)
    page.goto(live_server.url + reverse("meters:consumption"))

    chart = page.get_by_role("img", name="Wykres zużycia")
    assert chart.is_visible()
    assert page.locator("svg.chart rect.chart__bar").count() > 0
    assert page.get_by_role("table").is_visible()
    assert page.get_by_role("link", name="Pobierz jako CSV").is_visible()
    screenshot(page, "meters-consumption")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)

    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    screenshot(page, "meters-consumption-phone")
    assert_no_axe_violations(page)


def test_contract_page_is_accessible(page, live_server, household):
    login(page, live_server, "204518", factories.PASSWORD)
    page.get_by_role("link", name="Umowa i punkty odbioru").click()

    assert "Umowa" in page.get_by_role("heading", level=2).first.inner_text()
    assert "WM2021001" in page.locator("main").inner_text()
    screenshot(page, "meters-contract")
    assert_no_axe_violations(page)
    assert_no_csp_violations(page)


def test_accessible_names_have_no_stray_space_before_a_comma(page, live_server, household):
    # Chromium reads a visually hidden span as a block of its own: "Reading history<span>, WM…</span>" became
    # "Historia odczytów , WM2021001". The names are read from the browser's accessibility tree.
    factories.ReadingFactory(meter=household.meter, read_date=timezone.localdate() - timedelta(days=2), value=1)
    login(page, live_server, "204518", factories.PASSWORD)

    for url in (reverse("meters:index"), reverse("meters:meter", args=[household.meter.pk]), reverse("billing:index")):
        page.goto(live_server.url + url)
        tree = page.locator("main").aria_snapshot()

        assert not re.search(r"\s[,.;:]", "\n".join(re.findall(r'"([^"]*)"', tree))), tree
    page.goto(live_server.url + reverse("meters:index"))
    assert page.get_by_role("link", name="Historia odczytów, WM2021001", exact=True).count() == 1
