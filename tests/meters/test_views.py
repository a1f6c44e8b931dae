"""The meter pages: what a customer sees, what a stranger cannot reach, and how many queries each page costs."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from accounts.models import AccessRole
from core.models import OutboxMessage
from meters.models import Medium, MeterKind, Reading, ReadingStatus
from tests import factories
from tests.meters.conftest import add_readings

pytestmark = pytest.mark.django_db

IN_WINDOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
# Each meter page runs three queries of its own: the user's scope (read once, shared with the navigation's badge),
# points/meters or scopes, then meters/readings or history.
PAGE_QUERIES = 3


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def signed_in(english, customer_user):
    english.force_login(customer_user)
    return english


@pytest.fixture
def request_overhead(signed_in):
    """Queries every signed-in page runs (session, user, the shell's context, the idle-timeout session save),
    measured on the static accessibility page so that the meter pages are charged only for their own."""
    with CaptureQueriesContext(connection) as context:
        signed_in.get(reverse("pages:accessibility"))
    return len(context.captured_queries)


@pytest.fixture
def stranger(db):
    """Another customer with their own login, point and meter."""
    point = factories.DeliveryPointFactory(customer__number="999001", customer__name="Obcy Odbiorca")
    meter = factories.MeterFactory(delivery_point=point, serial_number="OBCY-0001")
    factories.ReadingFactory(meter=meter, external_id=None, portal_reference="SR-OBCY", photo="readings/obcy.png")
    user = factories.UserFactory(username="999001")
    factories.CustomerAccessFactory(user=user, customer=point.customer)
    return user


def png_upload(name="licznik.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- meters and legalization ----------------------------------------------------------------------------


@time_machine.travel(IN_WINDOW)
def test_meters_page_lists_meters_with_legalization_warnings_and_last_reading(signed_in, point, meter):
    meter.legalization_valid_until = date(2027, 1, 10)  # 46 days away: within the 60-day warning
    meter.save()
    expired = factories.MeterFactory(
        delivery_point=point, serial_number="PL-0002", kind=MeterKind.SUB, legalization_valid_until=date(2026, 11, 1)
    )
    fine = factories.MeterFactory(
        delivery_point=point, serial_number="PL-0003", legalization_valid_until=date(2030, 1, 1)
    )
    add_readings(meter, (date(2026, 10, 31), "180.250"))

    response = signed_in.get(reverse("meters:index"))

    html = response.content.decode()
    rows = {row.meter.serial_number: row for row in response.context["points"][0].meters}
    assert rows["WM2021001"].legalization_expiring and not rows["WM2021001"].legalization_expired
    assert rows[expired.serial_number].legalization_expired
    assert not rows[fine.serial_number].legalization_expiring and not rows[fine.serial_number].legalization_expired
    assert "Expires in 46 days" in html
    assert "Expired" in html
    assert "180.250" in html
    assert "The reading window is open" in html


@time_machine.travel(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
def test_meters_page_says_when_the_reading_window_opens(signed_in, meter):
    response = signed_in.get(reverse("meters:index"))

    assert "The next window opens on 21 November 2026" in response.content.decode()


def test_the_legalization_warning_period_is_a_setting(signed_in, meter, settings):
    settings.IBOK_LEGALIZATION_WARNING_DAYS = 10
    with time_machine.travel(IN_WINDOW):
        meter.legalization_valid_until = date(2027, 1, 10)
        meter.save()

        response = signed_in.get(reverse("meters:index"))

    assert not response.context["points"][0].meters[0].legalization_expiring


def test_meters_page_runs_the_same_queries_for_one_meter_and_many(
    signed_in, customer, meter, django_assert_num_queries, request_overhead
):
    add_readings(meter, (date(2026, 10, 31), "180"))
    # The points are paged: their count is one query more.
    with django_assert_num_queries(request_overhead + PAGE_QUERIES + 1):
        signed_in.get(reverse("meters:index"))

    for n in range(4):
        point = factories.DeliveryPointFactory(customer=customer, contract=meter.delivery_point.contract)
        for _ in range(3):
            other = factories.MeterFactory(delivery_point=point)
            add_readings(other, (date(2026, 9, 30), "10"), (date(2026, 10, 31), f"{20 + n}"))
    with django_assert_num_queries(request_overhead + PAGE_QUERIES + 1):
        response = signed_in.get(reverse("meters:index"))
    assert len(response.context["points"]) == 5


# --- reading history ------------------------------------------------------------------------------------


def test_history_shows_readings_since_the_contract_began_with_source_and_use(signed_in, meter):
    add_readings(meter, (date(2021, 3, 1), "1.000"))  # before the contract (1 April 2021): a previous customer's
    add_readings(meter, (date(2021, 4, 1), "5.000"), (date(2021, 10, 1), "62.500"))
    factories.ReadingFactory(meter=meter, read_date=date(2022, 4, 1), value=Decimal("120.000"), source="SELF")

    response = signed_in.get(reverse("meters:meter", args=[meter.pk]))

    history = response.context["history"]
    assert [(r.reading.read_date, r.consumption, r.days) for r in history] == [
        (date(2022, 4, 1), Decimal("57.500"), 182),
        (date(2021, 10, 1), Decimal("57.500"), 183),
        (date(2021, 4, 1), None, None),
    ]
    html = response.content.decode()
    assert "Self-reading" in html and "Collector" in html
    assert "01.03.2021" not in html


def test_history_runs_the_same_queries_for_one_reading_and_many(
    signed_in, meter, django_assert_num_queries, request_overhead
):
    add_readings(meter, (date(2026, 10, 31), "180"))
    with django_assert_num_queries(request_overhead + PAGE_QUERIES):
        signed_in.get(reverse("meters:meter", args=[meter.pk]))

    add_readings(meter, *[(date(2022, 1, 1) + timedelta(days=30 * i), str(10 * i)) for i in range(1, 40)])
    with django_assert_num_queries(request_overhead + PAGE_QUERIES):
        response = signed_in.get(reverse("meters:meter", args=[meter.pk]))
    assert len(response.context["history"]) == 40


# --- giving a reading -----------------------------------------------------------------------------------


@time_machine.travel(IN_WINDOW)
def test_customer_gives_a_reading_with_a_photo_and_sees_it_pending(signed_in, meter):
    add_readings(meter, (date(2026, 10, 31), "180.000"))

    response = signed_in.post(
        reverse("meters:reading-create", args=[meter.pk]), {"value": "185.5", "photo": png_upload()}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("meters:meter", args=[meter.pk])
    reading = Reading.objects.get(status=ReadingStatus.PENDING)
    assert reading.value == Decimal("185.500")
    assert "Pending" in response.content.decode()
    assert "is pending until it is confirmed" in response.content.decode()
    assert OutboxMessage.objects.filter(idempotency_key=f"reading:{reading.portal_reference}").exists()
    photo = signed_in.get(reverse("meters:reading-photo", args=[reading.pk]))
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/png"
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")


@time_machine.travel(IN_WINDOW)
def test_polish_decimal_comma_is_understood(client, customer_user, meter):
    add_readings(meter, (date(2026, 10, 31), "180.000"))
    client.force_login(customer_user)

    client.post(reverse("meters:reading-create", args=[meter.pk]), {"value": "185,125"})

    assert Reading.objects.get(status=ReadingStatus.PENDING).value == Decimal("185.125")


@time_machine.travel(IN_WINDOW)
def test_an_implausible_jump_shows_the_confirmation_box_and_a_second_submit_sends_it(signed_in, meter):
    add_readings(meter, (date(2026, 10, 31), "180.000"))
    url = reverse("meters:reading-create", args=[meter.pk])

    first = signed_in.post(url, {"value": "400"})

    assert first.status_code == 200
    assert "much more than usual" in first.content.decode()
    assert 'name="confirm"' in first.content.decode()
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()

    second = signed_in.post(url, {"value": "400", "confirm": "on"})

    assert second.status_code == 302
    assert Reading.objects.get(status=ReadingStatus.PENDING).value == Decimal("400")


@time_machine.travel(IN_WINDOW)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": ""}, "This field is required."),
        ({"value": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"value": "12.3456"}, "Ensure that there are no more than 3 decimal places."),
        ({"value": "abc"}, "Enter a number."),
        ({"value": "170"}, "The value is lower than the last reading of this meter"),
    ],
)
def test_a_wrong_value_is_explained_and_nothing_is_saved(signed_in, meter, data, message):
    add_readings(meter, (date(2026, 10, 31), "180.000"))

    response = signed_in.post(reverse("meters:reading-create", args=[meter.pk]), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()
    assert not OutboxMessage.objects.exists()


@time_machine.travel(IN_WINDOW)
def test_a_file_that_is_not_a_png_or_jpg_picture_is_refused(signed_in, meter):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("licznik.png", b"%PDF-1.7 not a picture", content_type="image/png")
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")

    for upload in (fake, SimpleUploadedFile("licznik.jpg", gif.getvalue(), content_type="image/jpeg")):
        response = signed_in.post(reverse("meters:reading-create", args=[meter.pk]), {"value": "5", "photo": upload})

        assert "The photo must be a PNG or JPG picture." in response.content.decode()
    assert not Reading.objects.exists()


@time_machine.travel(IN_WINDOW)
def test_a_photo_above_the_size_limit_is_refused(signed_in, meter, monkeypatch):
    monkeypatch.setattr("meters.forms.MAX_PHOTO_BYTES", 10)

    response = signed_in.post(reverse("meters:reading-create", args=[meter.pk]), {"value": "5", "photo": png_upload()})

    assert "The photo is too large: it may be at most 10 MB." in response.content.decode()
    assert not Reading.objects.exists()


@time_machine.travel(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
def test_outside_the_window_the_form_explains_and_saves_nothing(signed_in, meter):
    response = signed_in.post(reverse("meters:reading-create", args=[meter.pk]), {"value": "5"})

    assert "The next window opens on 21 November 2026." in response.content.decode()
    assert not Reading.objects.exists()


def test_a_removed_meter_has_no_reading_form(signed_in, meter):
    meter.removed_date = date(2026, 1, 1)
    meter.save()

    assert signed_in.get(reverse("meters:reading-create", args=[meter.pk])).status_code == 404


# --- contract -------------------------------------------------------------------------------------------


@time_machine.travel(IN_WINDOW)
def test_contract_page_shows_contract_points_tariff_and_meters(signed_in, customer, point, meter):
    contract = point.contract
    contract.valid_until = date(2027, 3, 31)
    contract.save()

    response = signed_in.get(reverse("meters:contract"))

    html = response.content.decode()
    assert contract.number in html
    assert "15.03.2021" in html  # contract date
    assert "Water supply and sewage disposal" in html
    assert "31.03.2027" in html  # fixed-term end
    assert point.code in html and point.tariff_group in html and point.address in html
    assert meter.serial_number in html


def test_contract_page_runs_the_same_queries_for_one_point_and_many(
    signed_in, customer, meter, django_assert_num_queries, request_overhead
):
    with django_assert_num_queries(request_overhead + PAGE_QUERIES):
        signed_in.get(reverse("meters:contract"))

    for _ in range(3):
        point = factories.DeliveryPointFactory(customer=customer)
        factories.MeterFactory.create_batch(2, delivery_point=point)
    with django_assert_num_queries(request_overhead + PAGE_QUERIES):
        response = signed_in.get(reverse("meters:contract"))
    assert len(response.context["contracts"]) == 4


# --- consumption ----------------------------------------------------------------------------------------


def monthly_readings(meter, *, start: date, months: int, per_month: Decimal):
    day, value, rows = start, Decimal(0), []
    for _ in range(months + 1):
        rows.append((day, str(value)))
        value += per_month
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return add_readings(meter, *rows)


@time_machine.travel(IN_WINDOW)
def test_consumption_of_a_point_adds_its_main_meters_across_a_meter_change(signed_in, point, meter):
    meter.removed_date = date(2026, 3, 1)
    meter.save()
    add_readings(meter, (date(2026, 1, 1), "500"), (date(2026, 3, 1), "559"))
    new = factories.MeterFactory(delivery_point=point, serial_number="WM2026100", installed_date=date(2026, 3, 1))
    add_readings(new, (date(2026, 3, 1), "0"), (date(2026, 4, 1), "62"))
    garden = factories.MeterFactory(delivery_point=point, kind=MeterKind.SUB, serial_number="POD-1")
    add_readings(garden, (date(2026, 1, 1), "0"), (date(2026, 4, 1), "900"))

    response = signed_in.get(
        reverse("meters:consumption"),
        {"scope": f"point-{point.pk}", "date_from": "2026-01-01", "date_to": "2026-03-31"},
    )

    analysis = response.context["analysis"]
    assert [b.usage.consumption for b in analysis.buckets] == [Decimal("31.000"), Decimal("28.000"), Decimal("62.000")]
    assert analysis.total.consumption == Decimal("121.000")
    assert analysis.total.average_per_day == Decimal("1.344")
    html = response.content.decode()
    assert '<svg class="chart"' in html
    assert "<table" in html and "121.000" in html


@time_machine.travel(IN_WINDOW)
def test_consumption_of_one_meter_compares_the_same_period_last_year(signed_in, meter):
    add_readings(meter, (date(2024, 12, 1), "0"), (date(2025, 1, 1), "31"), (date(2025, 12, 1), "300"))
    add_readings(meter, (date(2026, 1, 1), "362"))

    response = signed_in.get(
        reverse("meters:consumption"),
        {"scope": f"meter-{meter.pk}", "date_from": "2025-12-01", "date_to": "2025-12-31"},
    )

    analysis = response.context["analysis"]
    assert analysis.total.consumption == Decimal("62.000")
    assert analysis.last_year.consumption == Decimal("31.000")
    assert "Same period a year earlier" in response.content.decode()


def readings_by_rate(meter, first: date, last: date, per_day) -> None:
    """Readings on the first of each month; per_day(month start) is that month's daily use."""
    value, day, rows = Decimal(0), first, []
    while day <= last:
        rows.append((day, str(value)))
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        value += Decimal(per_day(day)) * (following - day).days
        day = following
    add_readings(meter, *rows)


@time_machine.travel(IN_WINDOW)
def test_consumption_page_warns_of_a_water_leak_in_water_words(english, signed_in, meter):
    # 0.3 m³ a day since 2023, then a running cistern adds 0.5 m³ a day from June 2026.
    readings_by_rate(
        meter, date(2023, 1, 1), date(2026, 10, 1), lambda day: "0.8" if day >= date(2026, 6, 1) else "0.3"
    )

    response = signed_in.get(
        reverse("meters:consumption"),
        {"scope": f"meter-{meter.pk}", "date_from": "2026-01-01", "date_to": "2026-09-30"},
    )

    html = response.content.decode()
    assert [b.start.month for b in response.context["analysis"].flagged] == [6, 7, 8, 9]
    assert "Possible water leak: use that never stops" in html
    assert "From 01.06.2026 to 30.09.2026 every stretch between two readings (5 readings in a row)" in html
    assert "toilet cistern" in html
    assert "(Cold water)" in html


@time_machine.travel(IN_WINDOW)
def test_consumption_page_warns_of_a_heat_jump_without_taps(english, signed_in, point, meter):
    meter.medium, meter.unit = Medium.HEAT, "GJ"
    meter.save()
    # 0.1 GJ a day in the winter months, 0.01 in summer; twice as much from November 2025 on.
    readings_by_rate(
        meter,
        date(2022, 9, 1),
        date(2026, 4, 1),
        lambda day: (
            (Decimal("0.1") if day.month in (11, 12, 1, 2, 3) else Decimal("0.01"))
            * (2 if day >= date(2025, 11, 1) else 1)
        ),
    )

    response = signed_in.get(
        reverse("meters:consumption"),
        {"scope": f"meter-{meter.pk}", "date_from": "2025-10-01", "date_to": "2026-03-31"},
    )

    html = response.content.decode()
    assert response.context["analysis"].has_alarm
    assert "Heat use far above the same months of earlier years" in html
    assert "thermostatic valves" in html
    assert "cistern" not in html and "Close every tap" not in html
    assert "(Heat)" in html


@time_machine.travel(IN_WINDOW)
def test_consumption_defaults_to_the_last_twelve_months_of_the_first_point(signed_in, point, meter):
    response = signed_in.get(reverse("meters:consumption"))

    analysis = response.context["analysis"]
    assert analysis.start == date(2025, 12, 1)
    assert analysis.end == date(2026, 11, 26)
    assert response.context["scope"].key == f"point-{point.pk}"


@time_machine.travel(IN_WINDOW)
def test_the_link_from_a_meter_page_analyses_that_meter_over_the_last_twelve_months(signed_in, meter):
    response = signed_in.get(reverse("meters:consumption"), {"scope": f"meter-{meter.pk}"})

    assert response.context["form"].errors == {}
    assert response.context["scope"].key == f"meter-{meter.pk}"
    assert response.context["analysis"].start == date(2025, 12, 1)


@time_machine.travel(IN_WINDOW)
def test_a_period_that_ends_before_it_starts_is_explained(signed_in, meter):
    response = signed_in.get(
        reverse("meters:consumption"),
        {"scope": f"meter-{meter.pk}", "date_from": "2026-05-01", "date_to": "2026-04-01"},
    )

    assert response.context["analysis"] is None
    assert "The end of the period is before its start." in response.content.decode()


@time_machine.travel(IN_WINDOW)
def test_consumption_csv_holds_the_table(signed_in, meter):
    add_readings(meter, (date(2025, 12, 1), "100"), (date(2026, 2, 1), "162"))

    response = signed_in.get(
        reverse("meters:consumption-csv"),
        {"scope": f"meter-{meter.pk}", "date_from": "2025-12-15", "date_to": "2026-01-10"},
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="consumption-20251215-20260111.csv"'
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("From;To;Consumption (m³);Days with readings")
    assert lines[1:] == [
        "2025-12-15;2025-12-31;17.000;17;1.000;;",
        "2026-01-01;2026-01-10;10.000;10;1.000;;",
        "2025-12-15;2026-01-10;27.000;27;1.000;;",
    ]


@pytest.mark.parametrize("years", [1, 10])
def test_consumption_page_runs_a_fixed_number_of_queries_for_any_period(
    signed_in, point, meter, years, django_assert_num_queries, request_overhead
):
    point.contract.signed_date = point.contract.valid_from = date(2014, 1, 1)
    point.contract.save()
    meter.installed_date = date(2014, 1, 1)
    meter.save()
    monthly_readings(meter, start=date(2014, 1, 1), months=12 * 12 + 10, per_month=Decimal("9.3"))
    sub = factories.MeterFactory(delivery_point=point, kind=MeterKind.SUB, installed_date=date(2014, 1, 1))
    monthly_readings(sub, start=date(2014, 1, 1), months=12 * 12 + 10, per_month=Decimal("1.5"))
    params = {"scope": f"point-{point.pk}", "date_from": f"{2026 - years}-11-01", "date_to": "2026-10-31"}

    # The scopes (the visible points with their contracts, then their meters: restricted before they are joined),
    # then the readings of the period and the year before.
    with django_assert_num_queries(request_overhead + PAGE_QUERIES + 1):
        response = signed_in.get(reverse("meters:consumption"), params)

    assert response.context["analysis"].total.consumption == Decimal("9.3") * 12 * years


# --- who sees what --------------------------------------------------------------------------------------


def stranger_urls(stranger_meter, stranger_reading, stranger_point):
    return [
        reverse("meters:meter", args=[stranger_meter.pk]),
        reverse("meters:reading-create", args=[stranger_meter.pk]),
        reverse("meters:reading-photo", args=[stranger_reading.pk]),
        reverse("meters:consumption") + f"?scope=meter-{stranger_meter.pk}",
        reverse("meters:consumption") + f"?scope=point-{stranger_point.pk}",
        reverse("meters:consumption-csv") + f"?scope=meter-{stranger_meter.pk}&date_from=2026-01-01&date_to=2026-02-01",
    ]


@time_machine.travel(IN_WINDOW)
def test_another_customer_gets_404_on_every_meter_url(signed_in, meter, stranger):
    stranger_meter = stranger.customer_accesses.get().customer.delivery_points.get().meters.get()
    stranger_reading = stranger_meter.readings.get()

    for url in stranger_urls(stranger_meter, stranger_reading, stranger_meter.delivery_point):
        assert signed_in.get(url).status_code == 404, url
    response = signed_in.post(reverse("meters:reading-create", args=[stranger_meter.pk]), {"value": "999"})
    assert response.status_code == 404
    assert not Reading.objects.filter(meter=stranger_meter, value=Decimal("999")).exists()


@time_machine.travel(IN_WINDOW)
def test_lists_never_show_another_customers_points_or_meters(signed_in, meter, stranger):
    for name in ("meters:index", "meters:contract", "meters:consumption"):
        html = signed_in.get(reverse(name)).content.decode()

        assert "OBCY-0001" not in html, name
        assert "999001" not in html, name


def test_anonymous_visitors_are_sent_to_login(client, meter):
    for url in (
        reverse("meters:index"),
        reverse("meters:contract"),
        reverse("meters:consumption"),
        reverse("meters:consumption-csv"),
        reverse("meters:meter", args=[meter.pk]),
        reverse("meters:reading-create", args=[meter.pk]),
        reverse("meters:reading-photo", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


@time_machine.travel(IN_WINDOW)
def test_a_manager_with_a_partial_scope_sees_only_the_granted_points(english, customer, point, meter):
    other_point = factories.DeliveryPointFactory(customer=customer, contract=point.contract, code="PO-INNY")
    other_meter = factories.MeterFactory(delivery_point=other_point, serial_number="INNY-0001")
    manager = factories.UserFactory(username="zarzadca")
    access = factories.CustomerAccessFactory(user=manager, customer=customer, role=AccessRole.MANAGER, all_points=False)
    access.points.add(point)
    english.force_login(manager)

    index = english.get(reverse("meters:index")).content.decode()
    contract = english.get(reverse("meters:contract")).content.decode()

    assert meter.serial_number in index and meter.serial_number in contract
    assert "INNY-0001" not in index and "PO-INNY" not in contract
    assert english.get(reverse("meters:meter", args=[other_meter.pk])).status_code == 404
    assert english.get(reverse("meters:reading-create", args=[other_meter.pk])).status_code == 404
    assert english.get(reverse("meters:consumption"), {"scope": f"point-{other_point.pk}"}).status_code == 404
    assert english.get(reverse("meters:meter", args=[meter.pk])).status_code == 200
