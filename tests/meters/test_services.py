"""Self-reading: every validation with its message and nothing saved; the outbox; confirmation by a sync."""

import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import translation
from PIL import Image

from billing.sync.loader import Loader
from core.models import AuditLogEntry, OutboxMessage
from meters import selectors, services
from meters.models import Reading, ReadingSource, ReadingStatus
from tests import factories
from tests.meters.conftest import add_readings

pytestmark = pytest.mark.django_db

IN_WINDOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 25 November: among the last ten days
OUT_OF_WINDOW = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def user(customer_user):
    return customer_user


@pytest.fixture
def read_meter(meter):
    """Monthly collector readings at about 0.3 m³ a day for the past year; the last one 180.000 on 31 October."""
    add_readings(
        meter,
        (date(2025, 10, 31), "70.500"),
        (date(2026, 4, 30), "125.100"),
        (date(2026, 10, 31), "180.000"),
    )
    return meter


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def assert_nothing_saved(meter):
    assert not Reading.objects.filter(meter=meter, status=ReadingStatus.PENDING).exists()
    assert not OutboxMessage.objects.exists()


def test_a_valid_reading_is_recorded_as_pending_and_queued_for_the_billing_system(read_meter, user):
    reading = services.self_reading_submit(meter=read_meter, value=Decimal("185.250"), now=IN_WINDOW, user=user)

    reading.refresh_from_db()
    assert reading.status == ReadingStatus.PENDING
    assert reading.source == ReadingSource.SELF
    assert reading.external_id is None
    assert reading.read_date == date(2026, 11, 25)
    assert reading.portal_reference.startswith("SR-20261125-")
    assert reading.submitted_by == user
    message = OutboxMessage.objects.get()
    assert message.kind == "reading"
    assert message.idempotency_key == f"reading:{reading.portal_reference}"
    assert message.customer_number == read_meter.delivery_point.customer.number
    assert message.payload == {
        "portal_reference": reading.portal_reference,
        "meter_id": read_meter.external_id,
        "serial_number": "WM2021001",
        "read_date": "2026-11-25",
        "value": "185.250",
        "source": "SELF",
        "submitted_at": IN_WINDOW.isoformat(),
        "has_photo": False,
        "photo_check": "",
    }
    assert AuditLogEntry.objects.filter(action="meters.self_reading_submitted", actor=user).exists()


def test_a_reading_outside_the_window_is_refused_with_the_next_opening(read_meter, user):
    with pytest.raises(services.ReadingWindowClosed) as exc:
        services.self_reading_submit(meter=read_meter, value=Decimal("185"), now=OUT_OF_WINDOW, user=user)

    assert str(exc.value) == (
        "Readings are accepted only in the reading window. The next window opens on 21 November 2026."
    )
    assert_nothing_saved(read_meter)


def test_the_window_follows_the_utilitys_setting(read_meter, user, settings):
    settings.IBOK_READING_WINDOW_DAYS = "8-12"

    reading = services.self_reading_submit(meter=read_meter, value=Decimal("185"), now=OUT_OF_WINDOW, user=user)

    assert reading.is_pending


def test_a_value_below_the_last_reading_is_refused(read_meter, user):
    with pytest.raises(services.ReadingBelowPrevious) as exc:
        services.self_reading_submit(meter=read_meter, value=Decimal("179.999"), now=IN_WINDOW, user=user)

    assert str(exc.value) == (
        "The value is lower than the last reading of this meter (180.000\u00a0m³ on 31 October 2026). Check the digits "
        "before the decimal point. If the meter has been replaced, give the reading of the new meter."
    )
    assert_nothing_saved(read_meter)


def test_the_same_value_as_the_last_reading_is_accepted(read_meter, user):
    reading = services.self_reading_submit(meter=read_meter, value=Decimal("180.000"), now=IN_WINDOW, user=user)

    assert reading.is_pending


def test_a_new_meter_starts_again_from_its_own_readings(read_meter, user, point):
    read_meter.removed_date = date(2026, 11, 3)
    read_meter.save()
    new_meter = factories.MeterFactory(
        delivery_point=point, serial_number="WM2026777", installed_date=date(2026, 11, 3)
    )
    add_readings(new_meter, (date(2026, 11, 3), "0.000"))

    reading = services.self_reading_submit(meter=new_meter, value=Decimal("6.400"), now=IN_WINDOW, user=user)

    assert reading.is_pending
    assert reading.meter == new_meter


def test_a_removed_meter_takes_no_reading(read_meter, user):
    read_meter.removed_date = date(2026, 11, 3)
    read_meter.save()

    with pytest.raises(services.MeterNotActive) as exc:
        services.self_reading_submit(meter=read_meter, value=Decimal("190"), now=IN_WINDOW, user=user)

    assert str(exc.value) == "This meter has been removed. Give the reading of the meter installed now."
    assert_nothing_saved(read_meter)


def test_a_second_reading_waits_until_the_first_is_confirmed(read_meter, user):
    services.self_reading_submit(meter=read_meter, value=Decimal("185"), now=IN_WINDOW, user=user)

    with pytest.raises(services.ReadingAlreadyPending) as exc:
        services.self_reading_submit(meter=read_meter, value=Decimal("186"), now=IN_WINDOW, user=user)

    assert str(exc.value) == (
        "Your reading of this meter from 25 November 2026 is waiting for the billing system. "
        "You can give the next one once it has been confirmed."
    )
    assert Reading.objects.filter(meter=read_meter, status=ReadingStatus.PENDING).count() == 1
    assert OutboxMessage.objects.count() == 1


def test_the_database_allows_one_pending_reading_per_meter(meter):
    factories.ReadingFactory(meter=meter, external_id=None, portal_reference="SR-A", status=ReadingStatus.PENDING)

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ReadingFactory(meter=meter, external_id=None, portal_reference="SR-B", status=ReadingStatus.PENDING)


def test_an_implausible_jump_asks_for_confirmation_and_saves_nothing(read_meter, user):
    # Usual use 0.3 m³ a day; 25 days since 31 October: the limit is 25 × max(3 × 0.3, 1) = 25 m³.
    with pytest.raises(services.ReadingNeedsConfirmation) as exc:
        services.self_reading_submit(meter=read_meter, value=Decimal("205.001"), now=IN_WINDOW, user=user)

    assert str(exc.value) == (
        "This reading means 25.001\u00a0m³ used since 31 October 2026, much more than usual "
        "(up to 25.000\u00a0m³ expected). "
        "Check the value. If it is right (for example after a leak), tick the confirmation and send it again."
    )
    assert_nothing_saved(read_meter)


def test_a_confirmed_jump_is_accepted(read_meter, user):
    reading = services.self_reading_submit(
        meter=read_meter, value=Decimal("480"), now=IN_WINDOW, user=user, confirmed_jump=True
    )

    assert reading.is_pending
    assert OutboxMessage.objects.get().payload["value"] == "480.000"


def test_the_plausible_limit_grows_with_a_customers_usual_use(meter, user):
    # A large consumer: 10 m³ a day over the past year, so 25 days may bring up to 25 × 30 = 750 m³.
    add_readings(meter, (date(2025, 10, 31), "1000"), (date(2026, 10, 31), "4650"))

    with pytest.raises(services.ReadingNeedsConfirmation):
        services.self_reading_check(meter=meter, value=Decimal("5400.001"), read_date=date(2026, 11, 25))
    reading = services.self_reading_submit(meter=meter, value=Decimal("5400"), now=IN_WINDOW, user=user)

    assert reading.is_pending


def test_a_later_reading_already_on_record_refuses_an_earlier_one(read_meter, user):
    add_readings(read_meter, (date(2026, 11, 30), "181"))

    with pytest.raises(services.ReadingBelowPrevious) as exc:
        services.self_reading_submit(meter=read_meter, value=Decimal("190"), now=IN_WINDOW, user=user)

    assert str(exc.value) == "This meter already has a later reading, from 30 November 2026."
    assert_nothing_saved(read_meter)


def test_a_photo_is_stored_under_the_reference_and_announced_to_the_billing_system(read_meter, user, settings):
    photo = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")

    reading = services.self_reading_submit(
        meter=read_meter, value=Decimal("185"), now=IN_WINDOW, user=user, photo=photo
    )

    assert reading.photo.name.endswith(f"{reading.portal_reference}.png")
    assert (settings.MEDIA_ROOT / reading.photo.name).read_bytes() == png_bytes()
    assert OutboxMessage.objects.get().payload["has_photo"] is True


def test_a_refused_reading_leaves_no_photo_behind(read_meter, user, settings):
    photo = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")

    with pytest.raises(services.ReadingBelowPrevious):
        services.self_reading_submit(meter=read_meter, value=Decimal("1"), now=IN_WINDOW, user=user, photo=photo)

    assert not list(settings.MEDIA_ROOT.rglob("*.png"))


def write_readings_batch(folder, records):
    folder.mkdir()
    manifest = {"contract_version": 1, "generated_at": "2026-11-26T10:00:00+00:00", "cursor": "c", "full": False}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "readings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_a_synced_reading_with_the_portal_reference_confirms_the_pending_one(read_meter, user, tmp_path):
    photo = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    pending = services.self_reading_submit(
        meter=read_meter, value=Decimal("185.250"), now=IN_WINDOW, user=user, photo=photo
    )
    batch = write_readings_batch(
        tmp_path / "batch",
        [
            {
                "id": "ODC-9001",
                "changed_at": "2026-11-26T10:00:00+00:00",
                "meter_id": read_meter.external_id,
                "read_date": "2026-11-25",
                "value": "185.250",
                "source": "SELF",
                "portal_reference": pending.portal_reference,
            }
        ],
    )
    Loader(batch).load()
    # Before the sweep runs the customer already sees the reading once, as confirmed.
    shown = selectors.reading_history(meter=read_meter)
    assert [(row.reading.external_id, row.reading.status) for row in shown][:1] == [("ODC-9001", "CONFIRMED")]
    assert len(shown) == 4

    confirmed = services.self_readings_confirm(now=datetime(2026, 11, 26, 10, 5, tzinfo=UTC))

    assert confirmed == 1
    assert not Reading.objects.filter(pk=pending.pk).exists()
    synced = Reading.objects.get(external_id="ODC-9001")
    assert synced.status == ReadingStatus.CONFIRMED
    assert synced.portal_reference == pending.portal_reference
    assert synced.photo.name == pending.photo.name
    assert synced.photo_check == pending.photo_check == "NO_DATE"  # a PNG without EXIF; the check goes with it
    assert services.self_readings_confirm(now=datetime(2026, 11, 26, 11, 0, tzinfo=UTC)) == 0
    # The meter is free for the next reading.
    services.self_reading_check(meter=read_meter, value=Decimal("186"), read_date=date(2026, 11, 30))


def test_confirmation_leaves_pending_readings_the_billing_system_has_not_sent(read_meter, user):
    pending = services.self_reading_submit(meter=read_meter, value=Decimal("185"), now=IN_WINDOW, user=user)
    factories.ReadingFactory(meter=read_meter, read_date=date(2026, 11, 20), value=Decimal("184"), portal_reference="")

    assert services.self_readings_confirm(now=IN_WINDOW) == 0
    assert Reading.objects.get(pk=pending.pk).is_pending


def test_staff_can_reject_a_pending_reading_and_the_customer_may_send_again(read_meter, user):
    pending = services.self_reading_submit(meter=read_meter, value=Decimal("185"), now=IN_WINDOW, user=user)

    rejected = services.self_reading_reject(reading=pending, now=IN_WINDOW)

    assert rejected.is_rejected
    again = services.self_reading_submit(meter=read_meter, value=Decimal("184"), now=IN_WINDOW, user=user)
    assert again.is_pending
    with pytest.raises(services.ReadingRejected):
        services.self_reading_reject(reading=rejected, now=IN_WINDOW)
