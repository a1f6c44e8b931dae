"""The API's self-reading with a photo: a multipart POST with a token, validated by the page's form and service."""

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import ExifTags, Image

from core.models import OutboxMessage
from meters.models import PhotoCheck, Reading, ReadingStatus
from tests import factories
from tests.api.test_api import bearer, household, make_token  # noqa: F401 (household is a fixture)
from tests.meters.conftest import add_readings

pytestmark = pytest.mark.django_db

IN_WINDOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IBOK_READING_WINDOW_DAYS = "L10,1-5"


def jpeg(taken: str | None) -> SimpleUploadedFile:
    exif = Image.Exif()
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile("IMG_0001.JPG", buffer.getvalue(), content_type="image/jpeg")


def url(meter) -> str:
    return f"/api/v1/meters/{meter.pk}/readings/photo"


@time_machine.travel(IN_WINDOW)
def test_an_app_sends_a_reading_with_a_photo_and_learns_the_photo_check(household):  # noqa: F811
    add_readings(household["meter"], (date(2026, 10, 31), "180.000"))
    token = make_token(household["user"], can_write=True)

    response = bearer(token, HTTP_ACCEPT_LANGUAGE="en").post(
        url(household["meter"]), {"value": "185.5", "photo": jpeg("2026:11:01 10:00:00")}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["value"], body["status"], body["has_photo"]) == ("185.500", "PENDING", True)
    assert (body["photo_check"], body["photo_flagged"]) == (PhotoCheck.TOO_OLD, True)
    assert body["message"].startswith("Your photo seems to have been taken on 1 November 2026")
    reading = Reading.objects.get(status=ReadingStatus.PENDING)
    assert reading.photo.name.endswith(f"{reading.portal_reference}.jpg")
    assert OutboxMessage.objects.get().payload["photo_check"] == "TOO_OLD"


@time_machine.travel(IN_WINDOW)
def test_a_file_that_is_not_a_picture_is_refused_with_the_pages_message(household):  # noqa: F811
    token = make_token(household["user"], can_write=True)
    fake = SimpleUploadedFile("licznik.jpg", b"%PDF-1.7 not a picture", content_type="image/jpeg")

    response = bearer(token, HTTP_ACCEPT_LANGUAGE="en").post(url(household["meter"]), {"value": "5", "photo": fake})

    assert response.status_code == 422
    assert response.json()["detail"] == "The photo must be a PNG or JPG picture."
    assert not Reading.objects.exists()


@time_machine.travel(IN_WINDOW)
def test_the_pages_validation_refuses_a_value_below_the_last_one(household):  # noqa: F811
    add_readings(household["meter"], (date(2026, 10, 31), "180.000"))
    token = make_token(household["user"], can_write=True)

    response = bearer(token).post(url(household["meter"]), {"value": "100", "photo": jpeg("2026:11:25 10:00:00")})

    assert response.status_code == 422
    assert "niższe niż ostatni odczyt" in response.json()["detail"]
    assert not Reading.objects.filter(status=ReadingStatus.PENDING).exists()


def test_a_read_only_token_and_another_customers_meter_are_refused(household):  # noqa: F811
    reader = make_token(household["user"])
    stranger = factories.MeterFactory(delivery_point=factories.DeliveryPointFactory())
    writer = make_token(household["user"], can_write=True)

    read_only = bearer(reader).post(url(household["meter"]), {"value": "5", "photo": jpeg(None)})
    not_theirs = bearer(writer).post(url(stranger), {"value": "5", "photo": jpeg(None)})
    anonymous = Client().post(url(household["meter"]), {"value": "5", "photo": jpeg(None)})

    assert read_only.status_code == 403
    assert not_theirs.status_code == 404
    assert anonymous.status_code == 401
    assert not Reading.objects.exists()


def test_the_route_is_in_the_openapi_document_as_multipart():
    schema = Client().get("/api/v1/openapi.json").json()

    operation = schema["paths"]["/api/v1/meters/{meter_id}/readings/photo"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
