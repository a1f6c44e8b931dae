"""Every write to cases: opening, replies both ways, reading, reopening, staff handling, reply e-mails."""

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import AccessRole, Customer, DeliveryPoint, User
from core import versions
from core.emails import absolute_url, render_email, send_email
from core.jobs import enqueue
from core.services import audit_record, outbox_put
from tickets.attachments import AttachmentRejected, CheckedFile, check_files
from tickets.models import (
    BILLING_ACTION_CASE_TYPES,
    PUBLIC_REPORT_TYPES,
    Attachment,
    AttachmentType,
    Case,
    CaseNote,
    CaseStatus,
    CaseType,
    Message,
    Sender,
)
from tickets.selectors import report_token_hash

__all__ = [
    "AttachmentRejected",
    "CaseClosed",
    "CaseNotReopenable",
    "CaseRejected",
    "case_mark_read",
    "case_open",
    "case_reopen",
    "case_reply",
    "case_reply_email_send",
    "case_staff_update",
    "report_open",
    "report_reply",
    "reports_claim",
]

DEFAULT_REOPEN_DAYS = 14


class CaseRejected(Exception):
    """The case cannot be opened as given (wrong delivery point, type or empty text)."""


class CaseClosed(Exception):
    """The case is closed: reopen it before writing."""


class CaseNotReopenable(Exception):
    """The case is not closed, or was closed longer ago than the reopening period."""


def reopen_period() -> timedelta:
    return timedelta(days=getattr(settings, "IBOK_CASE_REOPEN_DAYS", DEFAULT_REOPEN_DAYS))


def can_reopen(*, case: Case, now: datetime) -> bool:
    return case.is_closed and case.closed_at is not None and now < case.closed_at + reopen_period()


def _attach(*, now: datetime, message: Message, checked_files: list[CheckedFile]) -> None:
    for checked in checked_files:
        attachment = Attachment(
            message=message,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_at=now,
        )
        # The storage picks the random name (attachment_path); the upload's own name is never used on disk.
        attachment.file.save(checked.name, checked.upload, save=False)
        attachment.save()


@transaction.atomic
def case_open(
    *,
    now: datetime,
    customer: Customer,
    delivery_point: DeliveryPoint | None = None,
    opened_by: User | None,
    case_type: str,
    subject: str,
    description: str,
    fields: dict[str, Any] | None = None,
    attachments: Iterable[UploadedFile] = (),
) -> Case:
    """Open a case with its first message and attachments; queue it for the billing system if it needs action.

    Raises CaseRejected (delivery point of another customer, unknown type, empty subject or text) and
    AttachmentRejected (a file that is not a real PDF/JPG/PNG, too big, or too many).
    """
    subject = subject.strip()
    description = description.strip()
    if case_type not in CaseType.values:
        raise CaseRejected(_("Unknown case type."))
    if not subject or not description:
        raise CaseRejected(_("Give the case a subject and a description."))
    if delivery_point is not None and delivery_point.customer_id != customer.pk:
        raise CaseRejected(_("The delivery point does not belong to this customer."))
    # Every file is checked before anything is written, so a refused file leaves nothing behind.
    checked_files = check_files(list(attachments))
    case = Case.objects.create(
        customer=customer,
        delivery_point=delivery_point,
        opened_by=opened_by,
        case_type=case_type,
        status=CaseStatus.NEW,
        subject=subject[:200],
        fields=fields or {},
        opened_at=now,
        last_message_at=now,
    )
    message = Message.objects.create(case=case, sender=Sender.CUSTOMER, author=opened_by, body=description, sent_at=now)
    versions.bump([customer.pk])
    _attach(now=now, message=message, checked_files=checked_files)
    if case_type in BILLING_ACTION_CASE_TYPES:
        outbox_put(
            now=now,
            kind="case",
            customer_number=customer.number,
            idempotency_key=f"case:{case.pk}",
            payload={
                "case_id": case.pk,
                "case_type": case_type,
                "customer_number": customer.number,
                "delivery_point": delivery_point.code if delivery_point else None,
                "subject": case.subject,
                "description": description,
                "fields": case.fields,
                "opened_at": now.isoformat(),
            },
        )
    return case


@transaction.atomic
def case_reply(
    *, now: datetime, case: Case, author: User, body: str, attachments: Iterable[UploadedFile] = ()
) -> Message:
    """The customer writes in the thread of an open case; a case waiting for them goes back to the office.

    Raises CaseClosed, CaseRejected (empty text) and AttachmentRejected.
    """
    body = body.strip()
    if not body:
        raise CaseRejected(_("Write a message."))
    checked_files = check_files(list(attachments))
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_closed:
        raise CaseClosed(_("This case is closed. Reopen it to write again."))
    message = Message.objects.create(case=case, sender=Sender.CUSTOMER, author=author, body=body, sent_at=now)
    _attach(now=now, message=message, checked_files=checked_files)
    case.last_message_at = now
    if case.status == CaseStatus.WAITING_FOR_CUSTOMER:
        case.status = CaseStatus.IN_PROGRESS
    case.save(update_fields=["last_message_at", "status"])
    versions.bump([case.customer_id])
    return message


def case_mark_read(*, now: datetime, case: Case, reader: str) -> int:
    """Mark what the other side wrote as read by `reader` (Sender.CUSTOMER or Sender.STAFF); returns how many."""
    other = Sender.STAFF if reader == Sender.CUSTOMER else Sender.CUSTOMER
    # No data version bump: read marks show only in the unread-cases badge, which no cached page holds.
    return Message.objects.filter(case=case, sender=other, read_at__isnull=True).update(read_at=now)


@transaction.atomic
def case_reopen(*, now: datetime, case: Case, actor: User) -> Case:
    """Reopen a closed case within IBOK_CASE_REOPEN_DAYS of its closing. Raises CaseNotReopenable."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not can_reopen(case=case, now=now):
        raise CaseNotReopenable(_("This case can no longer be reopened. Please open a new case."))
    case.status = CaseStatus.IN_PROGRESS
    case.closed_at = None
    case.save(update_fields=["status", "closed_at"])
    versions.bump([case.customer_id])
    audit_record(now=now, action="case.reopen", actor=actor, target=case)
    return case


@transaction.atomic
def case_staff_update(
    *,
    now: datetime,
    case: Case,
    actor: User,
    status: str,
    assigned_to: User | None,
    reply: str = "",
    note: str = "",
) -> Case:
    """Staff handle a case: status, assignment, a reply the customer is e-mailed about, an internal note.

    A reply to a new case puts it in progress unless staff chose another status. Raises CaseRejected for an
    unknown status or an assignee who is not staff.
    """
    if status not in CaseStatus.values:
        raise CaseRejected(_("Unknown case status."))
    if assigned_to is not None and not assigned_to.is_staff:
        raise CaseRejected(_("Cases can be assigned only to staff."))
    locked = Case.objects.select_for_update().get(pk=case.pk)
    changes: dict[str, Any] = {}
    reply = reply.strip()
    note = note.strip()
    if reply:
        message = Message.objects.create(case=locked, sender=Sender.STAFF, author=actor, body=reply, sent_at=now)
        locked.last_message_at = now
        if status == CaseStatus.NEW:
            status = CaseStatus.IN_PROGRESS
        enqueue("tickets.case_reply_email_send", message_id=message.pk)
        changes["reply"] = message.pk
    if note:
        CaseNote.objects.create(case=locked, author=actor, body=note, created_at=now)
    if status != locked.status:
        changes["status"] = [locked.status, status]
        locked.status = status
        locked.closed_at = now if status == CaseStatus.CLOSED else None
    if assigned_to != locked.assigned_to:
        changes["assigned_to"] = [locked.assigned_to_id, assigned_to.pk if assigned_to else None]
        locked.assigned_to = assigned_to
    locked.save(update_fields=["status", "closed_at", "assigned_to", "last_message_at"])
    versions.bump([locked.customer_id])
    if "status" in changes or "assigned_to" in changes:
        audit_record(now=now, action="case.staff_update", actor=actor, target=locked, details=changes)
    return locked


def _report_reply_notify(case: Case, message_id: int) -> None:
    """Tell a reporter without an account that the office replied: by e-mail, else by SMS; never the link itself
    (only its hash is kept), they follow the thread with the link they got when reporting."""
    language = case.fields.get("language") or settings.LANGUAGE_CODE
    context = {"case": case, "case_type": CaseType(case.case_type).label}
    if case.reporter_email:
        subject, text, html = render_email("report_reply", context, language=language)
        send_email(to=case.reporter_email, subject=subject, text=text, html=html)
    elif case.reporter_phone:
        with translation.override(language):
            text = _(
                "%(utility)s: the office replied to your report no. %(number)s. Open it with your private link."
            ) % {
                "utility": settings.IBOK_UTILITY_NAME,
                "number": case.pk,
            }
        enqueue(
            "notices.sms_send",
            phone=case.reporter_phone,
            text=text,
            reference=f"report-reply-{message_id}",
        )


def _recipients(case: Case) -> list[User]:
    opener = case.opened_by
    if opener is not None and opener.is_active and opener.email:
        return [opener]
    owners = User.objects.filter(
        is_active=True,
        customer_accesses__customer=case.customer,
        customer_accesses__role=AccessRole.OWNER,
    ).exclude(email="")
    return list(owners.order_by("id"))


def case_reply_email_send(*, message_id: int, now: datetime) -> bool:
    """E-mail the customer that staff replied, once: the message is claimed before sending.

    Returns False when there was nothing to send (already sent, internal or missing). A sending error
    releases the claim and propagates, so the task retries.
    """
    claimed = Message.objects.filter(pk=message_id, sender=Sender.STAFF, customer_notified_at__isnull=True).update(
        customer_notified_at=now
    )
    if not claimed:
        return False
    message = Message.objects.select_related("case__opened_by", "case__customer").get(pk=message_id)
    case = message.case
    if case.is_public_report and case.opened_by is None:
        try:
            _report_reply_notify(case, message_id)
        except Exception:
            Message.objects.filter(pk=message_id).update(customer_notified_at=None)
            raise
        return True
    try:
        case_url = absolute_url(reverse("tickets:case-detail", kwargs={"case_id": case.pk}))
        for user in _recipients(case):
            context = {"user": user, "case": case, "case_type": CaseType(case.case_type).label, "case_url": case_url}
            subject, text, html = render_email("case_reply", context, language=user.language or settings.LANGUAGE_CODE)
            send_email(to=user.email, subject=subject, text=text, html=html)
    except Exception:
        Message.objects.filter(pk=message_id).update(customer_notified_at=None)
        raise
    return True


# --- reports without an account -----------------------------------------------------------------------------------


class ReportRejected(Exception):
    """A report without an account that cannot be taken as given (kind, place, text, contact, photo)."""


@transaction.atomic
def report_open(
    *,
    now: datetime,
    case_type: str,
    location: str,
    description: str,
    email: str,
    phone: str,
    photo: UploadedFile | None,
    language: str,
) -> tuple[Case, str]:
    """Take a failure or water-quality report from someone without an account; returns the case and the tracking
    link's token (kept only as a hash) and sends the link by e-mail, or by SMS when only a phone is given.

    Raises ReportRejected (kind, place, text, no contact, a photo that is not a JPG or PNG) and AttachmentRejected.
    """
    location, description, email, phone = location.strip(), description.strip(), email.strip().lower(), phone.strip()
    if case_type not in PUBLIC_REPORT_TYPES:
        raise ReportRejected(_("Choose what you are reporting: a failure or the water quality."))
    if not location or not description:
        raise ReportRejected(_("Give the address or delivery point number and a description."))
    if not email and not phone:
        raise ReportRejected(_("Give an e-mail address or a phone number, so that we can answer you."))
    checked_files = check_files([photo] if photo else [])
    if any(checked.content_type == AttachmentType.PDF for checked in checked_files):
        raise ReportRejected(_("The photo must be a JPG or PNG image."))
    token = secrets.token_urlsafe(32)
    case = Case.objects.create(
        customer=None,
        opened_by=None,
        case_type=case_type,
        status=CaseStatus.NEW,
        subject=location[:200],
        fields={"language": language},
        location=location[:200],
        reporter_email=email,
        reporter_phone=phone,
        tracking_token_hash=report_token_hash(token),
        opened_at=now,
        last_message_at=now,
    )
    message = Message.objects.create(case=case, sender=Sender.CUSTOMER, author=None, body=description, sent_at=now)
    _attach(now=now, message=message, checked_files=checked_files)
    link = absolute_url(reverse("reports:detail", kwargs={"token": token}))
    # The token leaves in this one message (the queued task's row is deleted a week after it was handed over).
    if email:
        context = {"case": case, "case_type": CaseType(case_type).label, "link": link}
        subject, text, html = render_email("report_link", context, language=language)
        enqueue("accounts.email_send", to=email, subject=subject, text=text, html=html)
    else:
        with translation.override(language):
            text = _("%(utility)s: report no. %(number)s registered. Follow it here: %(link)s") % {
                "utility": settings.IBOK_UTILITY_NAME,
                "number": case.pk,
                "link": link,
            }
        enqueue("notices.sms_send", phone=phone, text=text, reference=f"report-{case.pk}")
    return case, token


@transaction.atomic
def report_reply(*, now: datetime, case: Case, body: str) -> Message:
    """The reporter writes in the thread through their private link. Raises CaseClosed and CaseRejected."""
    body = body.strip()
    if not body:
        raise CaseRejected(_("Write a message."))
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_closed:
        raise CaseClosed(_("This report is closed. If the problem is back, please report it again."))
    message = Message.objects.create(case=case, sender=Sender.CUSTOMER, author=None, body=body, sent_at=now)
    case.last_message_at = now
    if case.status == CaseStatus.WAITING_FOR_CUSTOMER:
        case.status = CaseStatus.IN_PROGRESS
    case.save(update_fields=["last_message_at", "status"])
    return message


def reports_claim(*, user: User, emails: Iterable[str], now: datetime) -> int:
    """The user's reports made without an account join their case list: the unclaimed reports from any of their
    verified e-mail addresses (`emails`, the caller's verified ones) get them as `opened_by`. Returns how many."""
    addresses = sorted({email.strip().lower() for email in emails if email})
    if not addresses or not user.is_active:
        return 0
    with transaction.atomic():
        claimed = Case.objects.filter(
            customer__isnull=True, opened_by__isnull=True, reporter_email__in=addresses
        ).update(opened_by=user)
        if claimed:
            audit_record(now=now, action="case.reports_claimed", actor=user, target=user, details={"count": claimed})
    return claimed
