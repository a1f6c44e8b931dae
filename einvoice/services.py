"""Every write of the e-invoice app: consents, address verification, resignation, paper forms, deliveries.

A consent is a legal act: each step records who, when, from where and under which terms, appends an entry to
the history the customer sees, and tells the billing system through the outbox in the same transaction.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from smtplib import SMTPRecipientsRefused
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Consent as AccountConsent
from accounts.models import ConsentKind, Customer, Registration, RegistrationStatus, User
from accounts.permissions import scope_for
from accounts.selectors import owner_language
from billing import services as billing_services
from billing.models import Invoice
from core import versions
from core.db import pk_in
from core.emails import absolute_url, email_message, render_email
from core.jobs import enqueue
from core.services import audit_record, outbox_put
from einvoice import selectors
from einvoice.models import (
    AddressVerification,
    Consent,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Delivery,
    DeliveryStatus,
    EinvoiceTerms,
    EventKind,
    PaperForm,
    PaperFormKind,
    VerificationPurpose,
)
from tickets import services as ticket_services
from tickets.models import CaseType

VERIFICATION_VALID = timedelta(days=3)
# Attempts at e-mailing one invoice before it is left FAILED for staff; the wait doubles from one minute.
DELIVERY_MAX_ATTEMPTS = 6
# A delivery claimed longer ago than this was cut off mid-send (worker killed): staff decide, we never resend blind.
SENDING_STALE_AFTER = timedelta(minutes=30)
# Deliveries whose PDFs one deliveries_prepare task renders ahead of their sends (about 0.1 s each when warm).
PREPARE_CHUNK = 50

logger = logging.getLogger(__name__)


class EinvoiceError(Exception):
    """Base of the refusals below; str(exc) is the translated message for the customer."""


class SwitchNotAllowed(EinvoiceError):
    """A property manager with part of a customer's points cannot switch e-invoices on or off."""


class AlreadyRequested(EinvoiceError):
    """The customer already has e-invoices (or a request waiting for its address)."""


class NoTerms(EinvoiceError):
    """No e-invoice terms are published yet."""


class NotActive(EinvoiceError):
    """There is no consent to change or end."""


class VerificationPending(EinvoiceError):
    """An address is still waiting for its confirmation link to be clicked."""


class SameAddress(EinvoiceError):
    """The new address is the one already in use."""


class ResignationDateInPast(EinvoiceError):
    """Paper invoices cannot start before today."""


class VerificationInvalid(EinvoiceError):
    """The link was altered, replaced by a newer one, or its request was withdrawn."""


class VerificationExpired(EinvoiceError):
    """The link is older than VERIFICATION_VALID."""


class VerificationUsed(EinvoiceError):
    """The link was already used."""


class DeliveryRetry(Exception):
    """Sending failed in a way that may recover; the task retries after `countdown` seconds."""

    def __init__(self, message: str, countdown: int):
        super().__init__(message)
        self.countdown = countdown


@dataclass(frozen=True)
class PaperAddress:
    street: str
    building: str
    apartment: str
    postal_code: str
    city: str


# --- Helpers -----------------------------------------------------------------------------------------------


def _event(
    *,
    consent: Consent,
    kind: str,
    now: datetime,
    actor: User | None,
    ip_address: str | None = None,
    email: str = "",
    details: dict[str, Any] | None = None,
) -> ConsentEvent:
    """Every change of a consent is an event: the customer's data version moves with it (core.versions)."""
    versions.bump([consent.customer_id])
    return ConsentEvent.objects.create(
        consent=consent,
        customer_id=consent.customer_id,
        kind=kind,
        occurred_at=now,
        actor=actor,
        email=email or consent.email,
        ip_address=ip_address,
        details=details or {},
    )


def _outbox(*, consent: Consent, event: ConsentEvent, action: str, now: datetime) -> None:
    """The billing system learns every start, address change and end of e-invoices, in order, once."""
    customer = consent.customer
    outbox_put(
        now=now,
        kind="einvoice_consent",
        customer_number=customer.number,
        idempotency_key=f"einvoice.consent:{consent.pk}:{event.pk}",
        payload={
            "action": action,
            "customer_number": customer.number,
            "email": consent.email,
            "source": consent.source,
            "terms_version": consent.terms.version,
            "accepted_at": consent.accepted_at.isoformat(),
            "active_from": consent.active_from.isoformat() if consent.active_from else None,
            "paper_from": consent.ends_on.isoformat() if consent.ends_on else None,
            "paper_address": {
                "street": consent.paper_street,
                "building": consent.paper_building,
                "apartment": consent.paper_apartment,
                "postal_code": consent.paper_postal_code,
                "city": consent.paper_city,
            }
            if consent.paper_street
            else None,
            "occurred_at": now.isoformat(),
        },
    )


def _activate(*, consent: Consent, now: datetime, actor: User | None, ip_address: str | None) -> None:
    consent.status = ConsentStatus.ACTIVE
    consent.active_from = now
    consent.save(update_fields=["status", "active_from"])
    event = _event(consent=consent, kind=EventKind.ACTIVATED, now=now, actor=actor, ip_address=ip_address)
    _outbox(consent=consent, event=event, action="start", now=now)


def _verification_start(
    *, consent: Consent, purpose: str, email: str, now: datetime, actor: User | None, base_url: str, language: str
) -> AddressVerification:
    verification = AddressVerification.objects.create(
        consent=consent,
        purpose=purpose,
        email=email,
        created_at=now,
        expires_at=now + VERIFICATION_VALID,
        language=language,
    )
    _event(consent=consent, kind=EventKind.VERIFICATION_SENT, now=now, actor=actor, email=email)
    enqueue("einvoice.verification_email_send", verification_id=verification.pk, base_url=base_url)
    return verification


def _open_case(*, customer: Customer, user: User | None, now: datetime, case_type: str, subject: str, lines, fields):
    """The request also becomes a case in "Lista spraw", so the office sees and answers it like any other."""
    case = ticket_services.case_open(
        now=now,
        customer=customer,
        delivery_point=None,
        opened_by=user,
        case_type=case_type,
        subject=subject,
        description="\n".join(str(line) for line in lines),
        fields=fields,
    )
    return case.pk


def _require_switch(*, user: User, customer: Customer) -> None:
    if not scope_for(user=user).acts_as_customer(customer.pk):
        raise SwitchNotAllowed(
            _("Only the customer or a manager of all the customer's delivery points can change e-invoices.")
        )


def verification_token(*, verification: AddressVerification) -> str:
    return signing.dumps({"v": verification.pk, "e": verification.email}, salt=selectors.VERIFICATION_SALT)


# --- The customer's requests -------------------------------------------------------------------------------


def consent_request(
    *,
    customer: Customer,
    user: User,
    email: str,
    terms: EinvoiceTerms | None,
    now: datetime,
    ip_address: str | None,
    base_url: str,
) -> Consent:
    """Record the acceptance of e-invoices ("Zatwierdź"): terms version, time, user, IP and address.

    The service starts at once when the address is the account's verified e-mail; otherwise a link goes to
    the address and the consent waits for it. Raises SwitchNotAllowed, AlreadyRequested, NoTerms.
    """
    _require_switch(user=user, customer=customer)
    if terms is None:
        raise NoTerms(_("The e-invoice terms are not published yet. Please contact the customer service office."))
    email = email.strip()
    verified = selectors.is_verified_address(user=user, email=email)
    with transaction.atomic():
        try:
            with transaction.atomic():
                consent = Consent.objects.create(
                    customer=customer,
                    status=ConsentStatus.PENDING,
                    source=ConsentSource.PORTAL,
                    email=email,
                    terms=terms,
                    accepted_at=now,
                    accepted_by=user,
                    ip_address=ip_address,
                )
        except IntegrityError as exc:
            raise AlreadyRequested(_("e-Invoices are already switched on or waiting for confirmation.")) from exc
        _event(
            consent=consent,
            kind=EventKind.REQUESTED,
            now=now,
            actor=user,
            ip_address=ip_address,
            details={"terms_version": terms.version},
        )
        if verified:
            _activate(consent=consent, now=now, actor=user, ip_address=ip_address)
        else:
            _verification_start(
                consent=consent,
                purpose=VerificationPurpose.START,
                email=email,
                now=now,
                actor=user,
                base_url=base_url,
                language=user.language,
            )
        consent.case_id = _open_case(
            customer=customer,
            user=user,
            now=now,
            case_type=CaseType.EINVOICE_REQUEST,
            subject=_("Request to send invoices electronically"),
            lines=[
                _("E-invoice address: %(email)s") % {"email": email},
                _("Accepted terms: %(title)s, version %(version)s") % {"title": terms.title, "version": terms.version},
            ],
            fields={"email": email, "terms_version": terms.version, "consent_id": consent.pk},
        )
        consent.save(update_fields=["case_id"])
        audit_record(now=now, action="einvoice.consent_request", actor=user, target=consent, ip_address=ip_address)
    return consent


def _check(verification: AddressVerification, consent: Consent, now: datetime) -> None:
    if verification.confirmed_at is not None:
        raise VerificationUsed(_("This link was already used: the address is confirmed."))
    if verification.cancelled_at is not None:
        raise VerificationInvalid(_("This link is no longer valid: a newer one was sent or the request was withdrawn."))
    if verification.expires_at <= now:
        raise VerificationExpired(_("This link has expired. Request a new one on the e-invoice page of the portal."))
    expected = ConsentStatus.PENDING if verification.purpose == VerificationPurpose.START else ConsentStatus.ACTIVE
    if consent.status != expected:
        raise VerificationInvalid(_("This link is no longer valid: a newer one was sent or the request was withdrawn."))


def verification_check(*, token: str, now: datetime) -> AddressVerification:
    """The verification a link names, if it can still be confirmed (read only: the page before the button).

    Raises VerificationInvalid, VerificationExpired, VerificationUsed.
    """
    verification = selectors.verification_from_token(token=token)
    if verification is None:
        raise VerificationInvalid(_("This link is not valid. Check that you copied all of it."))
    _check(verification, verification.consent, now)
    return verification


def verification_confirm(*, token: str, now: datetime, ip_address: str | None) -> AddressVerification:
    """The click on the link sent to an e-invoice address: starts the service or switches to the new address.

    Raises VerificationInvalid, VerificationExpired, VerificationUsed; nothing changes then.
    """
    found = selectors.verification_from_token(token=token)
    if found is None:
        raise VerificationInvalid(_("This link is not valid. Check that you copied all of it."))
    with transaction.atomic():
        verification = AddressVerification.objects.select_for_update().select_related("consent").get(pk=found.pk)
        consent = (
            Consent.objects.select_for_update().select_related("customer", "terms").get(pk=verification.consent_id)
        )
        _check(verification, consent, now)
        verification.confirmed_at = now
        verification.save(update_fields=["confirmed_at"])
        if verification.purpose == VerificationPurpose.START:
            _activate(consent=consent, now=now, actor=None, ip_address=ip_address)
        else:
            previous = consent.email
            consent.email = verification.email
            consent.save(update_fields=["email"])
            event = _event(
                consent=consent,
                kind=EventKind.ADDRESS_CHANGED,
                now=now,
                actor=None,
                ip_address=ip_address,
                details={"previous": previous},
            )
            _outbox(consent=consent, event=event, action="address", now=now)
    return verification


def verification_renew(*, customer: Customer, user: User, now: datetime, base_url: str) -> AddressVerification:
    """A new link for the address that waits (the old one expired or got lost); the old link stops working.

    Raises SwitchNotAllowed, NotActive (nothing waits for confirmation).
    """
    _require_switch(user=user, customer=customer)
    with transaction.atomic():
        consent = selectors.open_consent(customer=customer)
        if consent is None:
            raise NotActive(_("No address is waiting for confirmation."))
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        waiting = (
            AddressVerification.objects.filter(consent=consent, confirmed_at__isnull=True, cancelled_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if waiting is None:
            raise NotActive(_("No address is waiting for confirmation."))
        AddressVerification.objects.filter(pk=waiting.pk).update(cancelled_at=now)
        return _verification_start(
            consent=consent,
            purpose=waiting.purpose,
            email=waiting.email,
            now=now,
            actor=user,
            base_url=base_url,
            language=user.language,
        )


def address_change_request(
    *, customer: Customer, user: User, email: str, now: datetime, ip_address: str | None, base_url: str
) -> Consent:
    """Move e-invoices to another address; an address the user has not proved to own is confirmed first.

    Raises SwitchNotAllowed, NotActive, VerificationPending (an earlier address still waits), SameAddress.
    """
    _require_switch(user=user, customer=customer)
    email = email.strip()
    with transaction.atomic():
        consent = selectors.open_consent(customer=customer)
        if consent is None:
            raise NotActive(_("e-Invoices are not switched on, so there is no address to change."))
        consent = Consent.objects.select_for_update().select_related("customer", "terms").get(pk=consent.pk)
        if consent.is_pending or selectors.open_verification(consent=consent, now=now) is not None:
            raise VerificationPending(
                _(
                    "An address is still waiting for confirmation. Click the link we sent to it, "
                    "or ask for a new link, before changing the address again."
                )
            )
        if consent.email.lower() == email.lower():
            raise SameAddress(_("e-Invoices already go to this address."))
        # Expired links of this consent are closed, so only one can ever wait.
        AddressVerification.objects.filter(
            consent=consent, confirmed_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=now)
        _event(
            consent=consent,
            kind=EventKind.CHANGE_REQUESTED,
            now=now,
            actor=user,
            ip_address=ip_address,
            email=email,
            details={"previous": consent.email},
        )
        previous = consent.email
        if selectors.is_verified_address(user=user, email=email):
            consent.email = email
            consent.save(update_fields=["email"])
            event = _event(
                consent=consent,
                kind=EventKind.ADDRESS_CHANGED,
                now=now,
                actor=user,
                ip_address=ip_address,
                details={"previous": previous},
            )
            _outbox(consent=consent, event=event, action="address", now=now)
        else:
            _verification_start(
                consent=consent,
                purpose=VerificationPurpose.CHANGE,
                email=email,
                now=now,
                actor=user,
                base_url=base_url,
                language=user.language,
            )
        _open_case(
            customer=customer,
            user=user,
            now=now,
            case_type=CaseType.ADDRESS_CHANGE,
            subject=_("Change of the e-invoice address"),
            lines=[
                _("Previous e-invoice address: %(email)s") % {"email": previous},
                _("New e-invoice address: %(email)s") % {"email": email},
            ],
            fields={"einvoice_email": email, "previous_email": previous, "consent_id": consent.pk},
        )
        audit_record(now=now, action="einvoice.address_change", actor=user, target=consent, ip_address=ip_address)
    return consent


def resignation_submit(
    *,
    customer: Customer,
    user: User,
    paper_from: date,
    address: PaperAddress,
    now: datetime,
    ip_address: str | None,
) -> Consent:
    """End e-invoices: paper invoices go to `address` from `paper_from` (today or later).

    Raises SwitchNotAllowed, NotActive, ResignationDateInPast.
    """
    _require_switch(user=user, customer=customer)
    if paper_from < timezone.localdate(now):
        raise ResignationDateInPast(_("The date from which paper invoices go out cannot be in the past."))
    with transaction.atomic():
        consent = selectors.open_consent(customer=customer)
        if consent is None:
            raise NotActive(_("e-Invoices are not switched on."))
        consent = Consent.objects.select_for_update().select_related("customer", "terms").get(pk=consent.pk)
        _end(consent=consent, paper_from=paper_from, address=address, now=now)
        event = _event(
            consent=consent,
            kind=EventKind.RESIGNED,
            now=now,
            actor=user,
            ip_address=ip_address,
            details={"paper_from": paper_from.isoformat(), "paper_address": consent.paper_address},
        )
        _outbox(consent=consent, event=event, action="end", now=now)
        _open_case(
            customer=customer,
            user=user,
            now=now,
            case_type=CaseType.EINVOICE_RESIGNATION,
            subject=_("Resignation from e-invoices"),
            lines=[
                _("Paper invoices from: %(date)s") % {"date": paper_from.strftime("%d.%m.%Y")},
                _("Postal address: %(address)s") % {"address": consent.paper_address},
            ],
            fields={"paper_from": paper_from.isoformat(), "paper_address": consent.paper_address},
        )
        audit_record(now=now, action="einvoice.resignation", actor=user, target=consent, ip_address=ip_address)
    return consent


def _end(*, consent: Consent, paper_from: date, address: PaperAddress | None, now: datetime) -> None:
    AddressVerification.objects.filter(consent=consent, confirmed_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=now
    )
    consent.status = ConsentStatus.ENDED
    consent.ended_at = now
    consent.ends_on = paper_from
    if address is not None:
        consent.paper_street = address.street
        consent.paper_building = address.building
        consent.paper_apartment = address.apartment
        consent.paper_postal_code = address.postal_code
        consent.paper_city = address.city
    consent.save()


# --- Registration ------------------------------------------------------------------------------------------


def consent_from_registration(*, registration_id: int, now: datetime) -> Consent | None:
    """The "I agree to receive e-invoices" box ticked at registration: active at once (the e-mail was verified).

    Safe to run twice (the signal and the sweep): one consent per registration. Nothing happens when the
    customer already has e-invoices or no e-invoice terms are published.
    """
    registration = Registration.objects.select_related("user", "customer").get(pk=registration_id)
    if registration.status != RegistrationStatus.COMPLETED or not registration.einvoice_requested:
        return None
    if Consent.objects.filter(registration=registration).exists():
        return None
    customer, user = registration.customer, registration.user
    accepted_at = registration.completed_at
    recorded = (
        AccountConsent.objects.filter(user=user, kind=ConsentKind.EINVOICE, given=True)
        .order_by("recorded_at", "id")
        .first()
    )
    terms = selectors.terms_current(now=accepted_at) or selectors.terms_current(now=now)
    if terms is None or selectors.open_consent(customer=customer) is not None:
        return None
    with transaction.atomic():
        try:
            with transaction.atomic():
                consent = Consent.objects.create(
                    customer=customer,
                    status=ConsentStatus.PENDING,
                    source=ConsentSource.REGISTRATION,
                    email=user.email,
                    terms=terms,
                    accepted_at=accepted_at,
                    accepted_by=user,
                    ip_address=recorded.ip_address if recorded else registration.ip_address,
                    registration=registration,
                )
        except IntegrityError:
            return None  # the other path (signal or sweep) got there first, or e-invoices are already on
        _event(
            consent=consent,
            kind=EventKind.REQUESTED,
            now=accepted_at,
            actor=user,
            ip_address=consent.ip_address,
            details={"terms_version": terms.version, "registration_id": registration.pk},
        )
        # In force from the registration, even when the sweep records it later.
        _activate(consent=consent, now=accepted_at, actor=user, ip_address=consent.ip_address)
    return consent


def registrations_sweep(*, now: datetime, limit: int = 500) -> int:
    """Consents for registrations whose signal was lost (the process died between commit and signal)."""
    from django.db.models import Exists, OuterRef

    pending = (
        Registration.objects.filter(status=RegistrationStatus.COMPLETED, einvoice_requested=True)
        .exclude(Exists(Consent.objects.filter(registration=OuterRef("pk"))))
        .exclude(
            Exists(
                Consent.objects.filter(
                    customer=OuterRef("customer_id"), status__in=[ConsentStatus.PENDING, ConsentStatus.ACTIVE]
                )
            )
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for registration_id in pending if consent_from_registration(registration_id=registration_id, now=now))


# --- Paper forms recorded by the office --------------------------------------------------------------------


def paper_consent_record(
    *,
    customer: Customer,
    email: str,
    signed_date: date,
    received_date: date,
    scan: UploadedFile,
    terms: EinvoiceTerms,
    actor: User,
    now: datetime,
) -> PaperForm:
    """A signed paper request: recorded with its scan; the address is checked by a link before the service starts.

    Raises AlreadyRequested.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                consent = Consent.objects.create(
                    customer=customer,
                    status=ConsentStatus.PENDING,
                    source=ConsentSource.PAPER,
                    email=email.strip(),
                    terms=terms,
                    accepted_at=timezone.make_aware(datetime.combine(signed_date, datetime.min.time())),
                    accepted_by=None,
                )
        except IntegrityError as exc:
            raise AlreadyRequested(_("This customer already has e-invoices or a request waiting.")) from exc
        form = PaperForm.objects.create(
            customer=customer,
            kind=PaperFormKind.CONSENT,
            signed_date=signed_date,
            received_date=received_date,
            email=consent.email,
            scan=scan,
            recorded_by=actor,
            recorded_at=now,
            consent=consent,
        )
        _event(
            consent=consent,
            kind=EventKind.PAPER_CONSENT,
            now=now,
            actor=actor,
            details={"signed_date": signed_date.isoformat(), "terms_version": terms.version},
        )
        _verification_start(
            consent=consent,
            purpose=VerificationPurpose.START,
            email=consent.email,
            now=now,
            actor=actor,
            base_url=settings.IBOK_PORTAL_URL,
            language=owner_language(customer=customer),
        )
        audit_record(now=now, action="einvoice.paper_consent", actor=actor, target=consent)
    return form


def paper_resignation_record(
    *,
    customer: Customer,
    signed_date: date,
    received_date: date,
    paper_from: date,
    paper_address: str,
    scan: UploadedFile,
    actor: User,
    now: datetime,
) -> PaperForm:
    """A signed paper resignation: the open consent ends on `paper_from` (not before the form was signed).

    Raises NotActive, ResignationDateInPast.
    """
    if paper_from < signed_date:
        raise ResignationDateInPast(_("Paper invoices cannot start before the form was signed."))
    with transaction.atomic():
        consent = selectors.open_consent(customer=customer)
        if consent is None:
            raise NotActive(_("This customer has no e-invoices to end."))
        consent = Consent.objects.select_for_update().select_related("customer", "terms").get(pk=consent.pk)
        _end(consent=consent, paper_from=paper_from, address=None, now=now)
        form = PaperForm.objects.create(
            customer=customer,
            kind=PaperFormKind.RESIGNATION,
            signed_date=signed_date,
            received_date=received_date,
            ends_on=paper_from,
            paper_address=paper_address,
            scan=scan,
            recorded_by=actor,
            recorded_at=now,
            consent=consent,
        )
        event = _event(
            consent=consent,
            kind=EventKind.PAPER_RESIGNATION,
            now=now,
            actor=actor,
            details={"paper_from": paper_from.isoformat(), "paper_address": paper_address},
        )
        _outbox(consent=consent, event=event, action="end", now=now)
        audit_record(now=now, action="einvoice.paper_resignation", actor=actor, target=consent)
    return form


# --- E-mails -----------------------------------------------------------------------------------------------


def verification_email_deliver(*, verification_id: int, base_url: str, now: datetime) -> bool:
    """Send the confirmation link once (claimed by email_sent_at; given back if sending fails)."""
    if not AddressVerification.objects.filter(pk=verification_id, email_sent_at__isnull=True).update(email_sent_at=now):
        return False
    verification = AddressVerification.objects.select_related("consent__customer").get(pk=verification_id)
    token = verification_token(verification=verification)
    link = absolute_url(reverse("einvoice:verify", kwargs={"token": token}), base_url=base_url)
    subject, text, html = render_email(
        "einvoice_verify",
        {
            "verification": verification,
            "customer": verification.consent.customer,
            "link": link,
            "is_change": verification.purpose == VerificationPurpose.CHANGE,
            "valid_days": VERIFICATION_VALID.days,
        },
        language=verification.language,
    )
    try:
        email_message(to=verification.email, subject=subject, text=text, html=html).send()
    except Exception:
        AddressVerification.objects.filter(pk=verification_id).update(email_sent_at=None)
        raise
    return True


# --- Delivery of invoices ----------------------------------------------------------------------------------


def deliveries_create(*, invoice_ids: list[int], now: datetime) -> list[int]:
    """A delivery for each of these invoices issued while its customer's consent was in force.

    Old invoices (a first import of years of history) are never e-mailed: only those issued on or after the
    day the consent started. Returns the ids of the deliveries that wait to be sent (new or not yet sent).
    """
    invoices = list(Invoice.objects.filter(pk_in(invoice_ids)).values_list("id", "customer_id", "issue_date"))
    customer_ids = {customer_id for _id, customer_id, _day in invoices}
    consents: dict[int, list[Consent]] = {}
    for consent in selectors.consents_covering().filter(customer__in=customer_ids):
        consents.setdefault(consent.customer_id, []).append(consent)
    rows = []
    for invoice_id, customer_id, issue_date in invoices:
        consent = selectors.consent_for_invoice(consents=consents.get(customer_id, []), issue_date=issue_date)
        if consent is not None:
            rows.append(
                Delivery(
                    invoice_id=invoice_id,
                    consent=consent,
                    customer_id=customer_id,
                    email=consent.email,
                    created_at=now,
                )
            )
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(
            pk_in([row.invoice_id for row in rows], "invoice"), status=DeliveryStatus.PENDING, attempts=0
        ).values_list("id", flat=True)
    )


def deliveries_enqueue(*, delivery_ids: list[int]) -> None:
    """Queue the sends of these deliveries, in the current transaction.

    A delivery whose invoice has no PDF yet (the usual case for a new invoice) is queued through
    deliveries_prepare: its PDF is rendered ahead in the bulk queue, PREPARE_CHUNK deliveries a task, and that
    task then queues their sends, which only read the stored file. The others' sends are queued at once.
    """
    unrendered = set(
        Delivery.objects.filter(pk_in(delivery_ids), invoice__pdf="").values_list("id", flat=True)
        if delivery_ids
        else []
    )
    for delivery_id in delivery_ids:
        if delivery_id not in unrendered:
            enqueue("einvoice.invoice_email_send", delivery_id=delivery_id)
    waiting = [delivery_id for delivery_id in delivery_ids if delivery_id in unrendered]
    for start in range(0, len(waiting), PREPARE_CHUNK):
        enqueue("einvoice.deliveries_prepare", delivery_ids=waiting[start : start + PREPARE_CHUNK])


def deliveries_prepare(*, delivery_ids: list[int]) -> int:
    """Render and store the PDFs of these deliveries' invoices (bulk queue), then queue their sends.

    A PDF that fails to render here is left to the send task, which renders it again and retries the delivery
    as for any other failure. Safe to run twice (a PDF is rendered once; a send claims its row). Returns how
    many PDFs were rendered.
    """
    rendered = 0
    deliveries = (
        Delivery.objects.filter(pk_in(delivery_ids), status=DeliveryStatus.PENDING, invoice__pdf="")
        .select_related("invoice__customer", "invoice__delivery_point")
        .order_by("id")
    )
    for delivery in deliveries:
        try:
            billing_services.invoice_pdf_ensure(invoice=delivery.invoice)
        except Exception:
            logger.exception("PDF of invoice %s not rendered ahead; its send renders it", delivery.invoice_id)
        else:
            rendered += 1
    with transaction.atomic():
        for delivery_id in delivery_ids:
            enqueue("einvoice.invoice_email_send", delivery_id=delivery_id)
    return rendered


def deliveries_sweep(*, now: datetime, limit: int = 1000) -> dict[str, int]:
    """Catch what was missed: invoices of consents in force without a delivery, pending deliveries whose task
    was lost, and sends cut off mid-way (marked FAILED for staff: the e-mail may or may not have left)."""
    with transaction.atomic():
        created = deliveries_create(invoice_ids=selectors.invoices_missing_delivery(limit=limit), now=now)
        due = selectors.deliveries_due(before=now - timedelta(minutes=5), limit=limit)
        stale = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - SENDING_STALE_AFTER).update(
            status=DeliveryStatus.FAILED,
            last_error="The sending was cut off; check whether the e-mail left before sending it again.",
        )
        deliveries_enqueue(delivery_ids=sorted(set(created) | set(due)))
    return {"created": len(created), "requeued": len(due), "stale": stale}


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def _delivery_message(delivery: Delivery) -> EmailMessage:
    invoice = delivery.invoice
    language = owner_language(customer=delivery.customer)
    subject, text, html = render_email(
        "einvoice_invoice",
        {
            "invoice": invoice,
            "customer": delivery.customer,
            "invoice_url": absolute_url(reverse("billing:invoice-detail", kwargs={"invoice_id": invoice.pk})),
            "portal_url": absolute_url("/"),
        },
        language=language,
    )
    name = billing_services.invoice_pdf_ensure(invoice=invoice)
    with default_storage.open(name, "rb") as handle:
        content = handle.read()
    message = email_message(to=delivery.email, subject=subject, text=text, html=html)
    message.attach(invoice.number.replace("/", "_") + ".pdf", content, "application/pdf")
    return message


def invoice_email_deliver(*, delivery_id: int, now: datetime) -> bool:
    """E-mail one invoice with its PDF, once: the row is claimed before sending, so a second run does nothing.

    Raises DeliveryRetry when sending failed in a way that may recover (the row waits for the next attempt);
    after DELIVERY_MAX_ATTEMPTS, or on a refused recipient, the row is left FAILED for staff.
    """
    if not _claim(delivery_id, now):
        return False
    delivery = Delivery.objects.select_related("invoice__customer", "invoice__delivery_point", "customer").get(
        pk=delivery_id
    )
    try:
        message = _delivery_message(delivery)
        message.send()
    except SMTPRecipientsRefused as exc:
        Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.FAILED, last_error=str(exc)[:2000])
        return False
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if delivery.attempts >= DELIVERY_MAX_ATTEMPTS:
            Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.FAILED, last_error=error)
            return False
        countdown = 60 * 2 ** (delivery.attempts - 1)
        Delivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.PENDING,
            claimed_at=None,
            last_error=error,
            next_attempt_at=now + timedelta(seconds=countdown),
        )
        raise DeliveryRetry(error, countdown) from exc
    Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.SENT, sent_at=now, last_error="")
    return True


def deliveries_retry(*, delivery_ids: list[int], actor: User, now: datetime) -> int:
    """Staff send failed deliveries again (after fixing the address or checking the mailbox)."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.FAILED).values_list("id", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, attempts=0, claimed_at=None, next_attempt_at=None
        )
        for delivery_id in ids:
            audit_record(now=now, action="einvoice.delivery_retry", actor=actor, details={"delivery_id": delivery_id})
        deliveries_enqueue(delivery_ids=ids)
    return len(ids)
