"""A self-reading with a photo of the meter: the photo's EXIF date against the reading, what the customer is told,
what the billing system and the office see (the admin's preview and its staff-only download)."""

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import ExifTags, Image

from core import uploads
from core.models import OutboxMessage
from meters import services
from meters.models import PhotoCheck, Reading, ReadingStatus
from tests import factories
from tests.meters.conftest import add_readings

pytestmark = pytest.mark.django_db

IN_WINDOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 10:30 in Warsaw


def meter_photo(taken: str | None = None, offset: str | None = None) -> bytes:
    """A JPEG as a phone makes it: with EXIF DateTimeOriginal ("2026:11:25 10:12:00") when given."""
    exif = Image.Exif()
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("licznik.jpg", content, content_type="image/jpeg")


@pytest.fixture
def read_meter(meter):
    add_readings(meter, (date(2026, 10, 31), "180.000"))
    return meter


@pytest.fixture
def english_client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_exif_date_is_read_from_the_photo_naive_or_with_its_offset():
    assert uploads.image_taken_at(upload(meter_photo("2026:11:25 10:12:00"))) == datetime(2026, 11, 25, 10, 12)
    with_offset = uploads.image_taken_at(upload(meter_photo("2026:11:25 10:12:00", "+01:00")))
    assert with_offset == datetime(2026, 11, 25, 9, 12, tzinfo=UTC)
    assert uploads.image_taken_at(upload(meter_photo())) is None
    assert uploads.image_taken_at(upload(meter_photo("not a date"))) is None


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        ("2026:11:25 10:12:00", PhotoCheck.OK),  # this morning, Warsaw time
        ("2026:11:22 11:00:00", PhotoCheck.OK),  # within the three days
        ("2026:11:22 10:00:00", PhotoCheck.TOO_OLD),  # three days and half an hour before
        ("2026:11:25 10:40:00", PhotoCheck.OK),  # ten minutes ahead: the camera's clock
        ("2026:11:25 11:30:00", PhotoCheck.FUTURE),
        (None, PhotoCheck.NO_DATE),
    ],
)
def test_the_photo_date_is_checked_against_the_reading(read_meter, customer_user, taken, expected):
    reading = services.self_reading_submit(
        meter=read_meter, value=185, now=IN_WINDOW, user=customer_user, photo=upload(meter_photo(taken))
    )

    reading.refresh_from_db()
    assert reading.photo_check == expected
    assert reading.photo_is_flagged == (expected in (PhotoCheck.TOO_OLD, PhotoCheck.FUTURE))
    assert (reading.photo_taken_at is None) == (taken is None)
    payload = OutboxMessage.objects.get().payload
    assert (payload["has_photo"], payload["photo_check"]) == (True, expected)


def test_the_age_limit_is_a_setting(read_meter, customer_user, settings):
    settings.IBOK_READING_PHOTO_MAX_AGE_DAYS = 10

    reading = services.self_reading_submit(
        meter=read_meter, value=185, now=IN_WINDOW, user=customer_user, photo=upload(meter_photo("2026:11:20 10:00:00"))
    )

    assert reading.photo_check == PhotoCheck.OK


def test_a_reading_without_a_photo_has_no_photo_check(read_meter, customer_user):
    reading = services.self_reading_submit(meter=read_meter, value=185, now=IN_WINDOW, user=customer_user)

    assert reading.photo_check == ""
    assert OutboxMessage.objects.get().payload["photo_check"] == ""


@time_machine.travel(IN_WINDOW)
def test_the_customer_is_told_politely_that_an_old_photo_will_be_checked(english_client, customer_user, read_meter):
    english_client.force_login(customer_user)

    response = english_client.post(
        reverse("meters:reading-create", args=[read_meter.pk]),
        {"value": "185.5", "photo": upload(meter_photo("2026:11:02 18:00:00"))},
        follow=True,
    )

    html = response.content.decode()
    assert "Your photo seems to have been taken on 2 November 2026" in html
    assert "someone at the office will look at it" in html
    assert Reading.objects.get(status=ReadingStatus.PENDING).photo_check == PhotoCheck.TOO_OLD


@time_machine.travel(IN_WINDOW)
def test_the_customer_is_told_in_polish_about_a_photo_from_the_future(client, customer_user, read_meter):
    client.force_login(customer_user)

    response = client.post(
        reverse("meters:reading-create", args=[read_meter.pk]),
        {"value": "185,5", "photo": upload(meter_photo("2027:01:01 12:00:00"))},
        follow=True,
    )

    assert "zegar aparatu" in response.content.decode()


@time_machine.travel(IN_WINDOW)
def test_a_photo_without_a_date_is_noted_and_a_dated_one_says_nothing(english_client, customer_user, read_meter):
    english_client.force_login(customer_user)
    url = reverse("meters:reading-create", args=[read_meter.pk])

    undated = english_client.post(url, {"value": "185", "photo": upload(meter_photo())}, follow=True)

    assert "Your photo carries no date" in undated.content.decode()
    Reading.objects.filter(status=ReadingStatus.PENDING).delete()
    dated = english_client.post(url, {"value": "185", "photo": upload(meter_photo("2026:11:25 10:00:00"))}, follow=True)
    html = dated.content.decode()
    assert "is pending until it is confirmed" in html
    assert "photo" not in html.split("is pending until it is confirmed")[1].split("</div>")[0]


@pytest.fixture
def office(client):
    staff = factories.UserFactory(username="bok.kowalska", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": generate_totp_secret()})
    client.force_login(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_office_sees_the_photo_and_its_check_in_the_admin_and_downloads_it(office, read_meter, customer_user):
    with translation.override("en"):
        reading = services.self_reading_submit(
            meter=read_meter,
            value=185,
            now=IN_WINDOW,
            user=customer_user,
            photo=upload(meter_photo("2026:10:01 8:00:00")),
        )
    photo_url = reverse("admin:meters_reading_photo", args=[reading.pk])

    flagged = office.get(reverse("admin:meters_reading_changelist") + "?photo_check__exact=TOO_OLD")
    change = office.get(reverse("admin:meters_reading_change", args=[reading.pk]))
    photo = office.get(photo_url)

    assert reading.portal_reference in flagged.content.decode()
    html = change.content.decode()
    assert f'src="{photo_url}"' in html
    assert "Photo taken long before the reading" in html
    assert "/media/" not in html
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/jpeg"
    assert "private" in photo["Cache-Control"] and "no-store" in photo["Cache-Control"]
    assert b"".join(photo.streaming_content) == reading.photo.open("rb").read()


def test_only_staff_download_a_photo_through_the_admin(client, read_meter, customer_user):
    reading = services.self_reading_submit(
        meter=read_meter, value=185, now=IN_WINDOW, user=customer_user, photo=upload(meter_photo())
    )
    url = reverse("admin:meters_reading_photo", args=[reading.pk])

    anonymous = client.get(url)
    client.force_login(customer_user)
    customer = client.get(url)
    staff = factories.UserFactory(username="bok.bez.uprawnien", is_staff=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": generate_totp_secret()})
    client.force_login(staff)
    unprivileged_staff = client.get(url)

    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert customer.status_code == 302 and "/admin/login/" in customer["Location"]
    assert unprivileged_staff.status_code == 403
