"""Readings by SMS: "ODCZYT <meter no.> <value>" sent to the utility's number reaches the portal through the SMS
gateway's signed callback (notices.views.sms_inbound); the reading is validated by the page's own service
(meters.services.self_reading_submit) and answered by SMS, in Polish, through a task.

The sender must be the verified SMS phone (notices' phone verification) of a user who may act for the meter's
delivery point: the number alone proves nothing, since anyone can read a meter's number off a water meter.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import User
from core.formats import format_quantity
from core.jobs import enqueue
from meters import selectors as meter_selectors
from meters import services as meter_services
from meters.models import Meter, ReadingSource
from notices import selectors, sms
from notices.models import InboundSms, InboundSmsOutcome

# ODCZYT <meter number> <value with up to 9 whole digits and 3 decimals, comma or dot> [TAK]
_COMMAND = re.compile(
    r"^\s*ODCZYT\s+(?P<meter>\S{1,32})\s+(?P<value>\d{1,9}(?:[.,]\d{1,3})?)(?:\s+(?P<yes>TAK))?\s*$", re.IGNORECASE
)
SIGNATURE_HEADER = "X-Ibok-Signature"


def signature_valid(*, body: bytes, signature: str) -> bool:
    """Is `signature` ("sha256=<hex>") the HMAC-SHA256 of the body under IBOK_SMS_INBOUND_SECRET? Never without one."""
    secret = settings.IBOK_SMS_INBOUND_SECRET
    if not secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower())


def sign(body: bytes, secret: str) -> str:
    """The header value a gateway sends with `body` (for the gateway's configuration and for tests)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def normalize_phone(raw: str) -> str:
    """The sender as E.164 ("48600100200", "+48 600 100 200" → "+48600100200"); "" when it is no phone number."""
    raw = raw.strip()
    if raw.isdigit() and len(raw) > 9:
        raw = "+" + raw  # gateways send international numbers without the plus
    try:
        number = phonenumbers.parse(raw, "PL")
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number.national_number else ""


@dataclass(frozen=True)
class Parsed:
    meter_number: str
    value: Decimal
    confirmed: bool


def parse(text: str) -> Parsed | None:
    match = _COMMAND.match(text or "")
    if match is None:
        return None
    value = Decimal(match["value"].replace(",", "."))
    return Parsed(meter_number=match["meter"], value=value, confirmed=bool(match["yes"]))


def _sender_for(*, meter_number: str, phone: str) -> tuple[Meter | None, User | None]:
    """The active meter with this number and a user whose verified phone this is and who may act for its point
    (accounts.permissions: the owner, or a manager granted the point); (meter or None, None) otherwise."""
    meters = list(Meter.objects.filter(serial_number__iexact=meter_number, removed_date__isnull=True).order_by("id"))
    if not meters:
        return None, None
    holders = User.objects.filter(phone=phone, is_active=True).filter(selectors.verified_phone_filter()).order_by("id")
    for user in holders:
        scope = permissions.scope_for(user=user)
        for meter in meters:
            try:
                return meter_selectors.access_meter(scope, meter.pk), user
            except Http404:
                continue
    return meters[0], None


def _handle(row: InboundSms, *, now: datetime) -> None:
    """Decide the outcome and the reply of a new row; record the reading when it is accepted."""
    parsed = parse(row.text)
    if parsed is None:
        row.outcome = InboundSmsOutcome.MALFORMED
        row.reply = _(
            "We did not understand the message. To give a reading send: ODCZYT <meter number> <reading>, "
            "for example ODCZYT WM2021001 185,5"
        )
        return
    phone = normalize_phone(row.sender)
    meter, user = _sender_for(meter_number=parsed.meter_number, phone=phone) if phone else (None, None)
    row.meter = meter
    if user is None:
        # One answer for "no such meter" and "not your phone": the SMS must not tell a stranger which meters exist.
        row.outcome = InboundSmsOutcome.UNKNOWN_METER if meter is None else InboundSmsOutcome.UNKNOWN_SENDER
        row.reply = _(
            "We could not accept the reading of meter %(meter)s from this phone number. Readings by SMS are "
            "accepted from the phone number verified in the customer's iBOK account. Check the meter number "
            "or give the reading in iBOK."
        ) % {"meter": parsed.meter_number}
        return
    row.user = user
    try:
        reading = meter_services.self_reading_submit(
            meter=meter,
            value=parsed.value,
            now=now,
            user=user,
            confirmed_jump=parsed.confirmed,
            source=ReadingSource.SMS,
        )
    except meter_services.ReadingNeedsConfirmation:
        row.outcome = InboundSmsOutcome.REJECTED
        row.reply = _(
            "The reading %(value)s of meter %(meter)s is much higher than usual. Check it. If it is right, send "
            "the same message again with TAK at the end."
        ) % {"value": format_quantity(parsed.value, meter.unit), "meter": meter.serial_number}
    except meter_services.ReadingRejected as exc:
        row.outcome = InboundSmsOutcome.REJECTED
        row.reply = _("The reading of meter %(meter)s was not accepted. %(reason)s") % {
            "meter": meter.serial_number,
            "reason": str(exc),
        }
    else:
        row.outcome = InboundSmsOutcome.ACCEPTED
        row.portal_reference = reading.portal_reference
        row.reply = _(
            "Thank you. The reading %(value)s of meter %(meter)s of %(date)s has been received and is waiting for "
            "the billing system's confirmation."
        ) % {
            "value": format_quantity(reading.value, meter.unit),
            "meter": meter.serial_number,
            "date": date_format(reading.read_date, "j E Y"),
        }


def inbound_sms_receive(*, gateway_message_id: str, sender: str, text: str, now: datetime) -> InboundSms:
    """Handle one SMS from the gateway's callback: record it, take the reading if it is one, owe the reply.

    Idempotent on the gateway's message id: a repeated callback returns the first row and changes nothing.
    Raises nothing (a refused reading is an outcome, answered by SMS).
    """
    existing = InboundSms.objects.filter(gateway_message_id=gateway_message_id).first()
    if existing is not None:
        return existing
    row = InboundSms(gateway_message_id=gateway_message_id, sender=sender[:32], text=text[:1000], received_at=now)
    try:
        with transaction.atomic():
            # The reply is in Polish whatever language the request came in: the customer never chose one here.
            with translation.override("pl"):
                _handle(row, now=now)
            row.save()
            enqueue("notices.inbound_sms_reply", inbound_sms_id=row.pk)
    except IntegrityError:
        # The same message id arrived twice at once: the other request recorded (and answers) it.
        return InboundSms.objects.get(gateway_message_id=gateway_message_id)
    return row


class ReplyFailed(Exception):
    """The gateway did not take the reply; try again later."""


def inbound_sms_reply(*, inbound_sms_id: int, now: datetime) -> bool:
    """Send the reply of an SMS reading once; True when sent now. Safe to run twice: a replied row is skipped, and
    the gateway drops a second message with the same reference. Raises ReplyFailed when the gateway may recover.
    """
    row = InboundSms.objects.filter(pk=inbound_sms_id, replied_at__isnull=True).first()
    if row is None:
        return False
    InboundSms.objects.filter(pk=row.pk).update(reply_attempts=row.reply_attempts + 1)
    phone = normalize_phone(row.sender) or row.sender
    try:
        sms.send(phone=phone, text=row.reply, reference=f"ibok-in{row.pk}")
    except sms.SmsRejected:
        return False  # the number cannot get SMS: nothing to retry; the row stays unreplied for staff
    except sms.SmsSendFailed as exc:
        raise ReplyFailed(str(exc)) from exc
    return bool(InboundSms.objects.filter(pk=row.pk, replied_at__isnull=True).update(replied_at=now))
