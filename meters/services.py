"""Meter writes: a customer's self-reading (samoodczyt), its confirmation by the billing system, its rejection."""

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from core import services as core_services
from core import uploads, versions
from core.formats import format_quantity
from meters import selectors
from meters.models import Medium, Meter, PhotoCheck, Reading, ReadingSource, ReadingStatus
from meters.window import reading_window

# A jump is implausible when the use per day since the last reading is above JUMP_FACTOR times the meter's
# usual daily use, and in any case above the floor (a household uses well under 1 m³ of water a day).
JUMP_FACTOR = Decimal(3)
PLAUSIBLE_DAILY_FLOOR = {Medium.COLD_WATER: Decimal(1), Medium.HOT_WATER: Decimal(1), Medium.HEAT: Decimal(3)}


class ReadingRejected(Exception):
    """A self-reading that cannot be accepted; str() is the message for the customer."""


class MeterNotActive(ReadingRejected):
    pass


class ReadingWindowClosed(ReadingRejected):
    pass


class ReadingAlreadyPending(ReadingRejected):
    pass


class ReadingBelowPrevious(ReadingRejected):
    pass


class ReadingNeedsConfirmation(ReadingRejected):
    """The value is possible but unusually high: the customer must confirm it."""


def _quantity(value: Decimal, unit: str) -> str:
    return format_quantity(value, unit)


def _new_reference(now: datetime) -> str:
    return f"SR-{timezone.localtime(now):%Y%m%d}-{secrets.token_hex(5).upper()}"


# A camera's clock a little ahead of the server's is not a photo "from the future".
PHOTO_CLOCK_SKEW = timedelta(minutes=15)


def photo_check(*, taken_at: datetime | None, now: datetime) -> PhotoCheck:
    """What the photo's EXIF date says about a reading given at `now`: on time, too old, in the future or undated.

    A naive EXIF time is the camera's local time, read as Europe/Warsaw. Too old is more than
    IBOK_READING_PHOTO_MAX_AGE_DAYS before the reading.
    """
    if taken_at is None:
        return PhotoCheck.NO_DATE
    if timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)
    if taken_at > now + PHOTO_CLOCK_SKEW:
        return PhotoCheck.FUTURE
    if taken_at < now - timedelta(days=settings.IBOK_READING_PHOTO_MAX_AGE_DAYS):
        return PhotoCheck.TOO_OLD
    return PhotoCheck.OK


def photo_check_message(reading: Reading) -> str:
    """What the customer is told about the photo's date, politely; "" when there is nothing to say."""
    if reading.photo_check == PhotoCheck.TOO_OLD:
        return _(
            "Your photo seems to have been taken on %(date)s, a while before today. That is fine, but someone at the "
            "office will look at it before the reading is used."
        ) % {"date": date_format(timezone.localtime(reading.photo_taken_at), "j E Y")}
    if reading.photo_check == PhotoCheck.FUTURE:
        return _(
            "The date saved in your photo is later than today (perhaps the camera's clock is wrong). Someone at the "
            "office will look at the photo before the reading is used."
        )
    if reading.photo_check == PhotoCheck.NO_DATE:
        return _("Your photo carries no date, so the office may compare it with the reading by hand.")
    return ""


def plausible_limit(*, meter: Meter, previous: Reading, read_date: date) -> Decimal:
    """The most use since the previous reading that is accepted without asking the customer to confirm."""
    days = max((read_date - previous.read_date).days, 1)
    per_day = PLAUSIBLE_DAILY_FLOOR.get(meter.medium, Decimal(1))
    usual = selectors.usual_daily_use(meter=meter, before=previous.read_date)
    if usual:
        per_day = max(per_day, usual * JUMP_FACTOR)
    return per_day * days


def self_reading_check(*, meter: Meter, value: Decimal, read_date: date, confirmed_jump: bool = False) -> None:
    """Raise ReadingRejected (one of its kinds) when this reading cannot be accepted now; nothing is written."""
    if not meter.is_active:
        raise MeterNotActive(_("This meter has been removed. Give the reading of the meter installed now."))
    window = reading_window()
    if not window.is_open(read_date):
        raise ReadingWindowClosed(
            _("Readings are accepted only in the reading window. The next window opens on %(date)s.")
            % {"date": date_format(window.next_open(read_date), "j E Y")}
        )
    previous = selectors.last_accepted_reading(meter=meter)
    if previous is not None and previous.is_pending:
        raise ReadingAlreadyPending(
            _(
                "Your reading of this meter from %(date)s is waiting for the billing system. "
                "You can give the next one once it has been confirmed."
            )
            % {"date": date_format(previous.read_date, "j E Y")}
        )
    if previous is None:
        return
    if previous.read_date > read_date:
        raise ReadingBelowPrevious(
            _("This meter already has a later reading, from %(date)s.")
            % {"date": date_format(previous.read_date, "j E Y")}
        )
    if value < previous.value:
        raise ReadingBelowPrevious(
            _(
                "The value is lower than the last reading of this meter (%(value)s on %(date)s). Check the digits "
                "before the decimal point. If the meter has been replaced, give the reading of the new meter."
            )
            % {"value": _quantity(previous.value, meter.unit), "date": date_format(previous.read_date, "j E Y")}
        )
    used = value - previous.value
    limit = plausible_limit(meter=meter, previous=previous, read_date=read_date)
    if used > limit and not confirmed_jump:
        raise ReadingNeedsConfirmation(
            _(
                "This reading means %(used)s used since %(date)s, much more than usual (up to %(limit)s expected). "
                "Check the value. If it is right (for example after a leak), tick the confirmation and send it again."
            )
            % {
                "used": _quantity(used, meter.unit),
                "date": date_format(previous.read_date, "j E Y"),
                "limit": _quantity(limit.quantize(Decimal("0.001")), meter.unit),
            }
        )


def self_reading_submit(
    *,
    meter: Meter,
    value: Decimal,
    now: datetime,
    user: User,
    photo: UploadedFile | None = None,
    confirmed_jump: bool = False,
    source: str = ReadingSource.SELF,
) -> Reading:
    """Record a customer's reading as pending and queue it for the billing system in the same transaction.

    A photo (checked already by the form: a real PNG or JPEG, scanned) is kept with the reading; its EXIF date is
    compared with `now` (photo_check). `source` is SELF (the page, the API) or SMS.

    Raises ReadingRejected (MeterNotActive, ReadingWindowClosed, ReadingAlreadyPending, ReadingBelowPrevious,
    ReadingNeedsConfirmation); then nothing is saved.
    """
    read_date = timezone.localdate(now)
    reference = _new_reference(now)
    reading = Reading(
        meter=meter,
        read_date=read_date,
        value=value,
        source=source,
        status=ReadingStatus.PENDING,
        portal_reference=reference,
        submitted_at=now,
        submitted_by=user,
    )
    try:
        with transaction.atomic():
            # One submission per meter at a time: the second waits here and then sees the first one pending.
            Meter.objects.select_for_update().filter(pk=meter.pk).first()
            self_reading_check(meter=meter, value=value, read_date=read_date, confirmed_jump=confirmed_jump)
            if photo is not None:
                taken_at = uploads.image_taken_at(photo)
                reading.photo_check = photo_check(taken_at=taken_at, now=now)
                if taken_at is not None:
                    reading.photo_taken_at = taken_at if timezone.is_aware(taken_at) else timezone.make_aware(taken_at)
                extension = "png" if photo.name.lower().endswith(".png") else "jpg"
                reading.photo.save(f"{reference}.{extension}", photo, save=False)
            reading.save()
            versions.bump([meter.delivery_point.customer_id])
            core_services.outbox_put(
                now=now,
                kind="reading",
                customer_number=meter.delivery_point.customer.number,
                idempotency_key=f"reading:{reference}",
                payload={
                    "portal_reference": reference,
                    "meter_id": meter.external_id,
                    "serial_number": meter.serial_number,
                    "read_date": read_date.isoformat(),
                    "value": f"{value:.3f}",
                    "source": source,
                    "submitted_at": now.isoformat(),
                    "has_photo": bool(reading.photo),
                    # The photo's own date against the reading's: "OK", "NO_DATE", "TOO_OLD", "FUTURE"; "" without one.
                    "photo_check": reading.photo_check,
                },
            )
            core_services.audit_record(
                now=now,
                action="meters.self_reading_submitted",
                actor=user,
                target=reading,
                details={
                    "portal_reference": reference,
                    "value": f"{value:.3f}",
                    "confirmed_jump": confirmed_jump,
                    "source": source,
                    "photo_check": reading.photo_check,
                },
            )
    except IntegrityError:
        if reading.photo:
            reading.photo.delete(save=False)
        raise ReadingAlreadyPending(
            _("A reading of this meter is already waiting for the billing system. Please try again later.")
        ) from None
    except ReadingRejected:
        if reading.photo:
            reading.photo.delete(save=False)
        raise
    return reading


def self_readings_confirm(*, now: datetime) -> int:
    """After a billing sync: drop pending self-readings that a synced reading with their reference now confirms.

    The synced row (same meter, same portal_reference) takes over the customer's photo. Returns how many were
    confirmed. Safe to run any number of times. Raises nothing.
    """
    twin = Reading.objects.filter(
        external_id__isnull=False, meter_id=OuterRef("meter_id"), portal_reference=OuterRef("portal_reference")
    )
    with transaction.atomic():
        confirmed = (
            Reading.objects.select_for_update()
            .filter(external_id__isnull=True, status=ReadingStatus.PENDING)
            .exclude(portal_reference="")
            .filter(Exists(twin))
        )
        photos = dict(confirmed.exclude(photo="").values_list("portal_reference", "photo"))
        if photos:
            pending = Reading.objects.filter(external_id__isnull=True, portal_reference=OuterRef("portal_reference"))
            # The photo's check goes with it: the office still sees a flagged photo on the confirmed reading.
            Reading.objects.filter(external_id__isnull=False, portal_reference__in=photos, photo="").update(
                photo=Subquery(pending.values("photo")[:1]),
                photo_taken_at=Subquery(pending.values("photo_taken_at")[:1]),
                photo_check=Subquery(pending.values("photo_check")[:1]),
            )
        doomed = Reading.objects.filter(pk__in=list(confirmed.values_list("pk", flat=True)))
        versions.bump(doomed.values_list("meter__delivery_point__customer_id", flat=True))
        count, _deleted = doomed.delete()
        if count:
            core_services.audit_record(now=now, action="meters.self_readings_confirmed", details={"count": count})
    return count


def self_reading_reject(*, reading: Reading, now: datetime, actor: User | None = None) -> Reading:
    """Staff mark a pending self-reading as rejected (the billing system refused it); the customer may send again.

    Raises ReadingRejected when the reading is not a pending self-reading.
    """
    with transaction.atomic():
        updated = Reading.objects.filter(pk=reading.pk, status=ReadingStatus.PENDING, external_id__isnull=True).update(
            status=ReadingStatus.REJECTED
        )
        if not updated:
            raise ReadingRejected(_("Only a pending self-reading can be rejected."))
        versions.bump([reading.meter.delivery_point.customer_id])
        core_services.audit_record(now=now, action="meters.self_reading_rejected", actor=actor, target=reading)
    reading.refresh_from_db()
    return reading
