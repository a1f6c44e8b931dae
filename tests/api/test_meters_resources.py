"""Contracts, points, meters, readings and consumption over the API: what the pages show, to whom they show it."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from meters.models import Reading, ReadingSource, ReadingStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_partial_manager_sees_the_meters_and_points_the_pages_show_them(world, as_user):
    client = as_user(world.partial_manager)
    page = Client()
    page.force_login(world.partial_manager)
    html = page.get(reverse("meters:index")).content.decode()

    meters = client.get("/api/v1/meters").json()["results"]
    points = client.get("/api/v1/delivery-points").json()["results"]
    [contract] = client.get("/api/v1/contracts").json()

    assert [m["serial_number"] for m in meters] == [world.a.meters[0].serial_number]
    assert world.a.meters[0].serial_number in html and world.a.meters[1].serial_number not in html
    assert [p["code"] for p in points] == [world.a.points[0].code]
    assert [p["code"] for p in contract["delivery_points"]] == [world.a.points[0].code]


def test_the_owner_sees_both_points_meters(world, as_user):
    meters = as_user(world.a.owner).get("/api/v1/meters").json()["results"]

    assert {m["id"] for m in meters} == {m.pk for m in world.a.meters}
    assert meters[0]["last_value"] == "123.456"


def test_readings_list_the_history_with_the_use_between_readings(world, as_user):
    meter = world.a.meters[0]
    factories.ReadingFactory(meter=meter, read_date=date(2026, 11, 30), value=Decimal("126.456"))

    rows = as_user(world.a.owner).get(f"/api/v1/meters/{meter.pk}/readings").json()["results"]

    assert [(r["read_date"], r["value"], r["consumption"], r["days"]) for r in rows] == [
        ("2026-11-30", "126.456", "3.000", 30),
        ("2026-10-31", "123.456", None, None),
    ]


def test_another_customers_meter_is_a_404_to_read_and_to_write_and_nothing_is_saved(world, as_user):
    client = as_user(world.b.owner, can_write=True)
    meter = world.a.meters[0]
    before = Reading.objects.count()

    assert client.get(f"/api/v1/meters/{meter.pk}/readings").status_code == 404
    posted = client.post(f"/api/v1/meters/{meter.pk}/readings", {"value": "130.000"}, content_type="application/json")

    assert posted.status_code == 404
    assert Reading.objects.count() == before


def test_a_partial_manager_may_not_read_the_other_points_meter(world, as_user):
    response = as_user(world.partial_manager).get(f"/api/v1/meters/{world.a.meters[1].pk}/readings")

    assert response.status_code == 404


def test_a_read_only_token_submits_no_reading(world, as_user):
    meter = world.a.meters[0]

    response = as_user(world.a.owner, HTTP_ACCEPT_LANGUAGE="uk").post(
        f"/api/v1/meters/{meter.pk}/readings", {"value": "130.000"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not Reading.objects.filter(meter=meter, source=ReadingSource.SELF).exists()


def test_a_reading_is_saved_as_pending_through_the_pages_service(world, as_user, settings):
    settings.IBOK_READING_WINDOW_DAYS = "1-31"
    meter = world.a.meters[0]

    response = as_user(world.a.owner, can_write=True).post(
        f"/api/v1/meters/{meter.pk}/readings", {"value": "130.000"}, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    saved = Reading.objects.get(meter=meter, source=ReadingSource.SELF)
    assert saved.status == ReadingStatus.PENDING and saved.portal_reference == response.json()["portal_reference"]


def test_consumption_is_the_pages_figures_with_last_years(world, as_user):
    meter = world.a.meters[0]
    for read_date, value in [
        (date(2024, 12, 31), "10.000"), (date(2025, 6, 30), "40.000"), (date(2025, 12, 31), "70.000"),
        (date(2026, 6, 30), "110.000"), (date(2026, 10, 31), "123.456"),
    ]:  # fmt: skip
        if read_date != date(2026, 10, 31):
            factories.ReadingFactory(meter=meter, read_date=read_date, value=Decimal(value))
    query = {"scope": f"meter-{meter.pk}", "date_from": "2026-01-01", "date_to": "2026-10-31"}
    page = Client()
    page.force_login(world.a.owner)

    body = as_user(world.a.owner).get("/api/v1/consumption", query).json()
    csv = page.get(reverse("meters:consumption-csv"), query).content.decode("utf-8-sig").strip().splitlines()

    total = csv[-1].split(";")
    assert body["total"]["consumption"] == total[2].replace(",", ".").replace("\xa0", "")
    assert body["last_year"]["consumption"] == total[5].replace(",", ".").replace("\xa0", "")
    assert body["last_year"]["consumption"] is not None
    assert [b["usage"]["consumption"] for b in body["buckets"]] == [
        (row.split(";")[2].replace(",", ".") or None) for row in csv[1:-1]
    ]
    assert {s["key"] for s in body["scopes"]} >= {f"meter-{meter.pk}", f"point-{meter.delivery_point_id}"}


def test_consumption_of_another_customers_meter_is_a_404(world, as_user):
    response = as_user(world.b.owner).get("/api/v1/consumption", {"scope": f"meter-{world.a.meters[0].pk}"})

    assert response.status_code == 404
