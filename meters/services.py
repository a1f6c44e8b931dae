"""Meter writes: a customer's self-reading (samoodczyt), its confirmation by the billing system, its rejection."""

import secrets
from datetime import date, datetime
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from core import services as core_services
from core import versions
from core.formats import format_quantity
from meters import selectors
from meters.models import Medium, Meter, Reading, ReadingSource, ReadingStatus
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
) -> Reading:
    """Record a customer's reading as pending and queue it for the billing system in the same transaction.

    Raises ReadingRejected (MeterNotActive, ReadingWindowClosed, ReadingAlreadyPending, ReadingBelowPrevious,
    ReadingNeedsConfirmation); then nothing is saved.
    """
    read_date = timezone.localdate(now)
    reference = _new_reference(now)
    reading = Reading(
        meter=meter,
        read_date=read_date,
        value=value,
        source=ReadingSource.SELF,
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
                    "source": ReadingSource.SELF,
                    "submitted_at": now.isoformat(),
                    "has_photo": bool(reading.photo),
                },
            )
            core_services.audit_record(
                now=now,
                action="meters.self_reading_submitted",
                actor=user,
                target=reading,
                details={"portal_reference": reference, "value": f"{value:.3f}", "confirmed_jump": confirmed_jump},
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
            pending_photo = Reading.objects.filter(
                external_id__isnull=True, portal_reference=OuterRef("portal_reference")
            ).values("photo")[:1]
            Reading.objects.filter(external_id__isnull=False, portal_reference__in=photos, photo="").update(
                photo=Subquery(pending_photo)
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
