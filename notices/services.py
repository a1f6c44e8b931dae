"""Notices writes: switches, phone verification, planning and sending notifications, announcements.

Exactly once: a Notification row per (user, kind, object, channel) is inserted before anything is sent (a unique
constraint drops the second of two concurrent runs), then each row is claimed with a conditional UPDATE
(PENDING → SENDING) by whoever sends it. A failure puts it back to PENDING with a later next_attempt_at, until
IBOK_NOTIFY_MAX_ATTEMPTS; then it is FAILED and shown to staff in the admin.
"""

import hmac
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Contract, DeliveryPoint, User
from billing.models import Invoice, InvoiceKind
from core.db import pk_in
from core.emails import absolute_url, email_message, render_email
from core.jobs import enqueue
from core.services import audit_record
from meters.models import Meter
from notices import selectors, sms
from notices.models import (
    Announcement,
    AnnouncementKind,
    AnnouncementTarget,
    Channel,
    Kind,
    Notification,
    NotificationPreference,
    NotificationStatus,
    PhoneVerification,
    normalize_city,
    normalize_street,
)

PLAN_BATCH = 2000  # candidates per round of recipient lookups
STALE_SENDING = timedelta(minutes=15)  # a claim older than this belongs to a worker that died


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- Switches ----------------------------------------------------------------------------------------------


def preferences_save(*, user: User, enabled: set[tuple[str, str]], now: datetime) -> None:
    """Store every (kind, channel) switch of the user: those in `enabled` on, all others off."""
    with transaction.atomic():
        for kind in Kind.values:
            for channel in Channel.values:
                NotificationPreference.objects.update_or_create(
                    user=user,
                    kind=kind,
                    channel=channel,
                    defaults={"enabled": (kind, channel) in enabled, "updated_at": now},
                )


# --- Phone verification ------------------------------------------------------------------------------------


class PhoneMissing(Exception):
    """The account has no phone number to verify."""


class PhoneAlreadyVerified(Exception):
    """The account's phone is verified already."""


class PhoneCodeTooSoon(Exception):
    """A code was sent moments ago, or too many today."""


class PhoneCodeNotSent(Exception):
    """The SMS gateway did not take the message."""


class PhoneCodeInvalid(Exception):
    """Wrong, expired or used up: the message says which."""


def _code_hash(*, user_id: int, phone: str, code: str) -> str:
    message = f"{user_id}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, sha256).hexdigest()


def phone_code_send(*, user: User, now: datetime) -> PhoneVerification:
    """Send a 6-digit code by SMS to the account's phone; only a hash of it is stored.

    Raises PhoneMissing, PhoneAlreadyVerified, PhoneCodeTooSoon, PhoneCodeNotSent.
    """
    state = selectors.phone_state(user=user, now=now)
    if not state.phone:
        raise PhoneMissing
    if state.verified:
        raise PhoneAlreadyVerified
    recent = PhoneVerification.objects.filter(user=user, created_at__gt=now - timedelta(days=1))
    if recent.filter(created_at__gt=now - timedelta(seconds=_setting("IBOK_PHONE_CODE_INTERVAL_SECONDS", 60))).exists():
        raise PhoneCodeTooSoon(_("A code was sent a moment ago. Please wait a minute before asking for another."))
    if recent.count() >= _setting("IBOK_PHONE_CODES_PER_DAY", 5):
        raise PhoneCodeTooSoon(_("Too many codes were sent today. Please try again tomorrow."))
    code = f"{secrets.randbelow(1_000_000):06d}"
    verification = PhoneVerification.objects.create(
        user=user,
        phone=state.phone,
        code_hash=_code_hash(user_id=user.pk, phone=state.phone, code=code),
        created_at=now,
        expires_at=now + timedelta(minutes=_setting("IBOK_PHONE_CODE_TTL_MINUTES", 10)),
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = render_to_string(
            "notices/sms/phone_code.txt", {"code": code, "utility_name": settings.IBOK_UTILITY_NAME}
        ).strip()
    try:
        sms.send(phone=state.phone, text=text, reference=f"ibok-code-{verification.pk}")
    except (sms.SmsSendFailed, sms.SmsRejected) as exc:
        verification.delete()
        raise PhoneCodeNotSent from exc
    return verification


def phone_code_verify(*, user: User, code: str, now: datetime) -> PhoneVerification:
    """Check a code against the newest one sent to the account's phone; on a match the phone is verified.

    Each wrong code counts: after IBOK_PHONE_CODE_MAX_ATTEMPTS the code is dead. Raises PhoneCodeInvalid.
    """
    max_attempts = _setting("IBOK_PHONE_CODE_MAX_ATTEMPTS", 5)
    phone = str(user.phone) if user.phone else ""
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(user=user, phone=phone, verified_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if not phone or verification is None:
            raise PhoneCodeInvalid(_("Ask for a code first."))
        if verification.expires_at <= now:
            raise PhoneCodeInvalid(_("The code has expired. Ask for a new one."))
        if verification.attempts >= max_attempts:
            raise PhoneCodeInvalid(_("Too many wrong codes. Ask for a new one."))
        expected = _code_hash(user_id=user.pk, phone=phone, code=code.strip())
        matches = hmac.compare_digest(expected, verification.code_hash)
        if matches:
            verification.verified_at = now
            verification.save(update_fields=["verified_at"])
        else:
            # Counted in this committed transaction: raising inside it would roll the count back.
            PhoneVerification.objects.filter(pk=verification.pk).update(attempts=F("attempts") + 1)
    if not matches:
        raise PhoneCodeInvalid(_("The code is not correct."))
    return verification


# --- Planning ----------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """Something worth telling the people who act for a customer, e.g. an invoice due in three days.

    point_ids: the delivery points it concerns (a partial manager of one of them is told too); None when it
    concerns the whole customer (only the owner and managers of all points are told).
    """

    kind: str
    object_key: str
    customer_id: int
    point_ids: frozenset[int] | None
    context: dict[str, Any] = field(default_factory=dict)


def _render(*, kind: str, channel: str, user: User, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML of one message, in the user's language."""
    slug = kind.lower()
    language = user.language or settings.LANGUAGE_CODE
    context = {
        **context,
        "user": user,
        "utility_name": settings.IBOK_UTILITY_NAME,
        "settings_url": absolute_url(reverse("notices:settings")),
    }
    if channel == Channel.SMS:
        with translation.override(language):
            return "", " ".join(render_to_string(f"notices/sms/{slug}.txt", context).split()), ""
    subject, text, html = render_email(f"notice_{slug}", context, language=language)
    return subject[:200], text, html


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notifications_plan(*, candidates: list[Candidate], now: datetime) -> list[int]:
    """Create the notifications the candidates call for, for every user who acts for the customer (in scope),
    switched the kind on for a channel, and has an e-mail / a verified phone. Existing ones are left alone.

    Returns the ids of the rows this call created (PENDING, to be sent).
    """
    created: list[int] = []
    for batch in _chunks(candidates, PLAN_BATCH):
        created.extend(_plan_batch(batch, now))
    return created


def _plan_batch(candidates: list[Candidate], now: datetime) -> list[int]:
    kinds = {c.kind for c in candidates}
    by_customer = permissions.audience(
        customer_ids={c.customer_id for c in candidates}, phone_verified=selectors.verified_phone_filter("user__")
    )
    users = {reach.user.pk for reaches in by_customer.values() for reach in reaches}
    switched_on = set(
        NotificationPreference.objects.filter(user_id__in=users, kind__in=kinds, enabled=True).values_list(
            "user_id", "kind", "channel"
        )
    )
    existing = set(
        Notification.objects.filter(kind__in=kinds, object_key__in={c.object_key for c in candidates}).values_list(
            "user_id", "kind", "object_key", "channel"
        )
    )
    rows: dict[tuple, Notification] = {}
    for candidate in candidates:
        for reach in by_customer.get(candidate.customer_id, []):
            if not reach.covers(candidate.point_ids):
                continue
            user = reach.user
            for channel in Channel.values:
                key = (user.pk, candidate.kind, candidate.object_key, channel)
                if key in existing or key in rows or (user.pk, candidate.kind, channel) not in switched_on:
                    continue
                if channel == Channel.EMAIL:
                    recipient = user.email
                else:
                    recipient = str(user.phone) if user.phone and user.phone_verified else ""
                if not recipient:
                    continue
                subject, body, html = _render(
                    kind=candidate.kind, channel=channel, user=user, context=candidate.context
                )
                rows[key] = Notification(
                    user=user,
                    customer_id=candidate.customer_id,
                    kind=candidate.kind,
                    channel=channel,
                    object_key=candidate.object_key,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    html=html,
                    created_at=now,
                )
    if not rows:
        return []
    # A concurrent run may have inserted some of these meanwhile: the unique constraint keeps its rows.
    Notification.objects.bulk_create(rows.values(), ignore_conflicts=True, batch_size=1000)
    return list(
        Notification.objects.filter(
            created_at=now,
            status=NotificationStatus.PENDING,
            kind__in=kinds,
            object_key__in={key[2] for key in rows},
        ).values_list("pk", flat=True)
    )


def notifications_enqueue(*, notification_ids: list[int]) -> None:
    """One send task per message (each is retried on its own), queued in one transaction."""
    with transaction.atomic():
        for notification_id in notification_ids:
            enqueue("notices.notification_send", notification_id=notification_id)


def new_invoice_candidates(*, invoice_ids: list[int], today: date) -> list[Candidate]:
    """Invoices issued within IBOK_NOTIFY_NEW_INVOICE_MAX_AGE_DAYS: a first import of years of history is quiet."""
    since = today - timedelta(days=_setting("IBOK_NOTIFY_NEW_INVOICE_MAX_AGE_DAYS", 7))
    invoices = Invoice.objects.filter(pk_in(invoice_ids), issue_date__gte=since).select_related("customer")
    return [
        Candidate(
            kind=Kind.NEW_INVOICE,
            object_key=f"invoice:{invoice.pk}",
            customer_id=invoice.customer_id,
            point_ids=frozenset({invoice.delivery_point_id}) if invoice.delivery_point_id else None,
            context={
                "invoice": invoice,
                "customer": invoice.customer,
                "document_type": InvoiceKind(invoice.kind).label,
                "url": absolute_url(reverse("billing:invoice-detail", kwargs={"invoice_id": invoice.pk})),
            },
        )
        for invoice in invoices.order_by("id")
    ]


def payment_due_candidates(*, today: date) -> list[Candidate]:
    """e-monit: unpaid documents due within IBOK_NOTIFY_PAYMENT_DUE_DAYS (from today)."""
    until = today + timedelta(days=_setting("IBOK_NOTIFY_PAYMENT_DUE_DAYS", 3))
    invoices = Invoice.objects.filter(outstanding__gt=0, due_date__gte=today, due_date__lte=until).select_related(
        "customer"
    )
    return [
        Candidate(
            kind=Kind.PAYMENT_DUE,
            object_key=f"invoice:{invoice.pk}:due:{invoice.due_date.isoformat()}",
            customer_id=invoice.customer_id,
            point_ids=frozenset({invoice.delivery_point_id}) if invoice.delivery_point_id else None,
            context={
                "invoice": invoice,
                "customer": invoice.customer,
                "days": (invoice.due_date - today).days,
                "url": absolute_url(reverse("billing:pay")),
            },
        )
        for invoice in invoices.order_by("due_date", "id")
    ]


def contract_end_candidates(*, today: date) -> list[Candidate]:
    """e-powiadomienie Umowa: fixed-term contracts ending within IBOK_NOTIFY_CONTRACT_END_DAYS."""
    until = today + timedelta(days=_setting("IBOK_NOTIFY_CONTRACT_END_DAYS", 30))
    contracts = list(
        Contract.objects.filter(valid_until__gte=today, valid_until__lte=until)
        .select_related("customer")
        .order_by("id")
    )
    points: dict[int, set[int]] = defaultdict(set)
    for contract_id, point_id in DeliveryPoint.objects.filter(contract__in=contracts).values_list("contract_id", "id"):
        points[contract_id].add(point_id)
    return [
        Candidate(
            kind=Kind.CONTRACT_END,
            object_key=f"contract:{contract.pk}:{contract.valid_until.isoformat()}",
            customer_id=contract.customer_id,
            point_ids=frozenset(points[contract.pk]) or None,
            context={
                "contract": contract,
                "customer": contract.customer,
                "days": (contract.valid_until - today).days,
                "url": absolute_url(reverse("meters:contract")),
            },
        )
        for contract in contracts
    ]


def legalization_candidates(*, today: date) -> list[Candidate]:
    """e-komunikat: installed meters whose legalization ends within IBOK_NOTIFY_LEGALIZATION_DAYS."""
    until = today + timedelta(days=_setting("IBOK_NOTIFY_LEGALIZATION_DAYS", 30))
    meters = Meter.objects.filter(
        removed_date__isnull=True, legalization_valid_until__gte=today, legalization_valid_until__lte=until
    ).select_related("delivery_point__customer")
    return [
        Candidate(
            kind=Kind.LEGALIZATION,
            object_key=f"meter:{meter.pk}:{meter.legalization_valid_until.isoformat()}",
            customer_id=meter.delivery_point.customer_id,
            point_ids=frozenset({meter.delivery_point_id}),
            context={
                "meter": meter,
                "point": meter.delivery_point,
                "customer": meter.delivery_point.customer,
                "days": (meter.legalization_valid_until - today).days,
                "url": absolute_url(reverse("meters:meter", kwargs={"meter_id": meter.pk})),
            },
        )
        for meter in meters.order_by("legalization_valid_until", "id")
    ]


def new_invoices_notify(*, invoice_ids: list[int], now: datetime) -> list[int]:
    """e-powiadomienie Faktura for invoices just imported; safe to call again with the same ids."""
    candidates = new_invoice_candidates(invoice_ids=invoice_ids, today=timezone.localdate(now))
    ids = notifications_plan(candidates=candidates, now=now)
    notifications_enqueue(notification_ids=ids)
    return ids


def reminders_plan(*, now: datetime) -> list[int]:
    """The daily job: payment due, contract end and legalization reminders, and announcements reaching points
    synced since they were published. Safe to run twice, also at the same time: each message is created once."""
    today = timezone.localdate(now)
    candidates = [
        *payment_due_candidates(today=today),
        *contract_end_candidates(today=today),
        *legalization_candidates(today=today),
    ]
    ids = notifications_plan(candidates=candidates, now=now)
    for announcement in selectors.current_announcements(now=now):
        if announcement.has_area:
            ids += announcement_push(announcement=announcement, now=now)
    notifications_enqueue(notification_ids=ids)
    return ids


# --- Sending -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    status: str  # what the row is now; "" when this call did not get to send it
    retry_in: int | None = None  # seconds until the next attempt, when one is planned


def _still_wanted(notification: Notification) -> bool:
    """The user may have switched the kind off, or changed the phone, since the message was planned."""
    user = notification.user
    if not user.is_active:
        return False
    switched_on = NotificationPreference.objects.filter(
        user=user, kind=notification.kind, channel=notification.channel, enabled=True
    ).exists()
    if not switched_on:
        return False
    if notification.channel == Channel.SMS:
        return (
            str(user.phone) == notification.recipient
            and selectors.phone_state(user=user, now=notification.created_at).verified
        )
    return True


def _deliver(notification: Notification) -> None:
    if notification.channel == Channel.EMAIL:
        email_message(
            to=notification.recipient, subject=notification.subject, text=notification.body, html=notification.html
        ).send()
    else:
        sms.send(phone=notification.recipient, text=notification.body, reference=f"ibok-n{notification.pk}")


def retry_delay(attempts: int) -> int:
    """IBOK_NOTIFY_RETRY_SECONDS, doubled after every failed attempt, at most six hours."""
    base = _setting("IBOK_NOTIFY_RETRY_SECONDS", 60)
    return min(base * 2 ** max(attempts - 1, 0), 6 * 3600)


def notification_send(*, notification_id: int, now: datetime) -> SendOutcome:
    """Send one notification if it is due and nobody else is sending it (claimed PENDING → SENDING).

    A failure is recorded and planned again with backoff, or, after IBOK_NOTIFY_MAX_ATTEMPTS or when the
    gateway refuses the message for good, marked FAILED for staff.
    """
    claimed = (
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1)))
        .update(status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return SendOutcome(status="")
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not _still_wanted(notification):
        Notification.objects.filter(pk=notification_id).update(status=NotificationStatus.CANCELLED)
        return SendOutcome(status=NotificationStatus.CANCELLED)
    try:
        _deliver(notification)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the row; the row must not stay SENDING
        error = f"{type(exc).__name__}: {exc}"[:2000]
        give_up = isinstance(exc, sms.SmsRejected) or notification.attempts >= _setting("IBOK_NOTIFY_MAX_ATTEMPTS", 6)
        if give_up:
            Notification.objects.filter(pk=notification_id).update(status=NotificationStatus.FAILED, last_error=error)
            return SendOutcome(status=NotificationStatus.FAILED)
        delay = retry_delay(notification.attempts)
        Notification.objects.filter(pk=notification_id).update(
            status=NotificationStatus.PENDING, last_error=error, next_attempt_at=now + timedelta(seconds=delay)
        )
        return SendOutcome(status=NotificationStatus.PENDING, retry_in=delay)
    Notification.objects.filter(pk=notification_id).update(
        status=NotificationStatus.SENT, sent_at=now, last_error="", next_attempt_at=None
    )
    return SendOutcome(status=NotificationStatus.SENT)


def notifications_resume(*, now: datetime, limit: int = 1000) -> list[int]:
    """The sweep behind the per-message tasks: due PENDING rows whose task was lost are returned to be sent;
    a SENDING claim left by a worker that died is marked FAILED (it may have gone out, so it is not repeated)."""
    Notification.objects.filter(status=NotificationStatus.SENDING, claimed_at__lt=now - STALE_SENDING).update(
        status=NotificationStatus.FAILED,
        last_error=_("Sending was interrupted; the message may or may not have gone out, so it was not repeated."),
    )
    return list(
        Notification.objects.filter(status=NotificationStatus.PENDING, created_at__lt=now - timedelta(minutes=2))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def notifications_retry(*, notification_ids: list[int], now: datetime, actor: User) -> int:
    """Staff send failed notifications again (admin action): back to PENDING with fresh attempts."""
    with transaction.atomic():
        count = Notification.objects.filter(pk__in=notification_ids, status=NotificationStatus.FAILED).update(
            status=NotificationStatus.PENDING, attempts=0, next_attempt_at=None, claimed_at=None
        )
        audit_record(now=now, action="notices.notification_retry", actor=actor, details={"ids": notification_ids})
        notifications_enqueue(notification_ids=list(notification_ids))
    return count


# --- Announcements -----------------------------------------------------------------------------------------


class AnnouncementInvalid(Exception):
    """The announcement's time window or area does not make sense."""


PUSHED_KINDS = {AnnouncementKind.OUTAGE, AnnouncementKind.PLANNED_WORKS}


def announcement_targets_resolve(*, announcement: Announcement) -> int:
    """Store the delivery points the announcement's area reaches: the chosen points, and in its city (all of it,
    or the listed streets) every point. Returns how many it reaches."""
    point_ids = set(announcement.points.values_list("pk", flat=True))
    city = normalize_city(announcement.city)
    if city:
        streets = {normalize_street(name) for name in announcement.street_list}
        for point_id, street in DeliveryPoint.objects.filter(city__iexact=city).values_list("pk", "street"):
            if not streets or normalize_street(street) in streets:
                point_ids.add(point_id)
    with transaction.atomic():
        AnnouncementTarget.objects.filter(announcement=announcement).exclude(delivery_point_id__in=point_ids).delete()
        AnnouncementTarget.objects.bulk_create(
            [AnnouncementTarget(announcement=announcement, delivery_point_id=pid) for pid in sorted(point_ids)],
            ignore_conflicts=True,
            batch_size=5000,
        )
        selectors.announcements_changed()
    return len(point_ids)


def announcement_publish(*, announcement: Announcement, now: datetime, actor: User | None) -> int:
    """After staff save an announcement: resolve its area and, when it is a published outage or planned works
    that has not ended, push it to the affected customers who asked (in a task). Returns the points reached.

    Raises AnnouncementInvalid.
    """
    if announcement.ends_at is not None and announcement.ends_at <= announcement.starts_at:
        raise AnnouncementInvalid(_("The end must be after the start."))
    if announcement.street_list and not announcement.city.strip():
        raise AnnouncementInvalid(_("Give the city of the streets."))
    with transaction.atomic():
        selectors.announcements_changed()
        if not announcement.published:
            AnnouncementTarget.objects.filter(announcement=announcement).delete()
            return 0
        reached = announcement_targets_resolve(announcement=announcement)
        Announcement.objects.filter(pk=announcement.pk).update(targets_resolved_at=now)
        if announcement.published_at is None:
            Announcement.objects.filter(pk=announcement.pk, published_at__isnull=True).update(published_at=now)
            announcement.published_at = now
            audit_record(now=now, action="notices.announcement_publish", actor=actor, target=announcement)
        if announcement.kind in PUSHED_KINDS and (announcement.ends_at is None or announcement.ends_at > now):
            enqueue("notices.announcement_push", announcement_id=announcement.pk)
    return reached


def announcement_push(*, announcement: Announcement, now: datetime) -> list[int]:
    """Plan "outage" notifications for every customer with a point the announcement reaches; once per user."""
    if not announcement.published or announcement.kind not in PUSHED_KINDS:
        return []
    if announcement.ends_at is not None and announcement.ends_at <= now:
        return []
    announcement_targets_resolve(announcement=announcement)
    points: dict[int, set[int]] = defaultdict(set)
    for customer_id, point_id in DeliveryPoint.objects.filter(
        pk__in=AnnouncementTarget.objects.filter(announcement=announcement).values("delivery_point_id")
    ).values_list("customer_id", "pk"):
        points[customer_id].add(point_id)
    context = {
        "announcement": announcement,
        "kind_label": AnnouncementKind(announcement.kind).label,
        "url": absolute_url(reverse("notices:announcements")),
    }
    candidates = [
        Candidate(
            kind=Kind.OUTAGE,
            object_key=f"announcement:{announcement.pk}",
            customer_id=customer_id,
            point_ids=frozenset(point_ids),
            context=context,
        )
        for customer_id, point_ids in sorted(points.items())
    ]
    return notifications_plan(candidates=candidates, now=now)
