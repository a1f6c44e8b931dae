"""e-Invoice reads, scoped to the acting user (accounts.permissions.Scope)."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from accounts.models import Customer, User
from accounts.permissions import Scope
from billing.models import Invoice
from einvoice.models import (
    AddressVerification,
    Consent,
    ConsentEvent,
    ConsentStatus,
    Delivery,
    DeliveryStatus,
    EinvoiceTerms,
)

VERIFICATION_SALT = "einvoice.verify"


def terms_current(*, now: datetime) -> EinvoiceTerms | None:
    """The e-invoice terms in force: the newest version already published."""
    return EinvoiceTerms.objects.filter(published_at__lte=now).order_by("-published_at", "-id").first()


def is_verified_address(*, user: User | None, email: str) -> bool:
    """The address is one the user already proved to own (their account's verified e-mail)."""
    if user is None:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def open_consent(*, customer: Customer) -> Consent | None:
    return (
        Consent.objects.filter(customer=customer, status__in=[ConsentStatus.PENDING, ConsentStatus.ACTIVE])
        .select_related("terms")
        .first()
    )


def open_verification(*, consent: Consent, now: datetime) -> AddressVerification | None:
    return (
        AddressVerification.objects.filter(
            consent=consent, confirmed_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
        )
        .order_by("-created_at", "-id")
        .first()
    )


def verification_from_token(*, token: str) -> AddressVerification | None:
    """The verification row a link names, or None for an altered or foreign link (expiry is checked by the service)."""
    try:
        data = signing.loads(token, salt=VERIFICATION_SALT)
    except signing.BadSignature:
        return None
    return (
        AddressVerification.objects.filter(pk=data.get("v"), email=data.get("e"))
        .select_related("consent__customer")
        .first()
    )


@dataclass(frozen=True)
class CustomerState:
    """What the e-invoice page shows for one customer."""

    customer: Customer
    may_switch: bool
    consent: Consent | None  # the open one, else the newest ended one
    verification: AddressVerification | None  # a link still waiting for a click

    @property
    def is_active(self) -> bool:
        return self.consent is not None and self.consent.is_active

    @property
    def is_pending(self) -> bool:
        return self.consent is not None and self.consent.is_pending

    @property
    def is_open(self) -> bool:
        return self.is_active or self.is_pending

    @property
    def change_pending(self) -> bool:
        return self.is_active and self.verification is not None


def overview(*, scope: Scope, now: datetime) -> list[CustomerState]:
    """Every customer the user may act for with its e-invoice state, in three queries however many there are.

    Switching e-invoices on or off, or changing their address, concerns all the customer's points (seed 003):
    only those who act as the customer may (`may_switch`)."""
    customers = list(scope.customers())
    ids = [c.pk for c in customers]
    latest: dict[int, Consent] = {}
    for consent in Consent.objects.filter(customer__in=ids).order_by("customer_id", "-accepted_at", "-id"):
        current = latest.get(consent.customer_id)
        if current is None or (not _is_open(current) and _is_open(consent)):
            latest[consent.customer_id] = consent
    verifications: dict[int, AddressVerification] = {}
    for verification in AddressVerification.objects.filter(
        consent__in=[c.pk for c in latest.values()],
        confirmed_at__isnull=True,
        cancelled_at__isnull=True,
        expires_at__gt=now,
    ).order_by("-created_at", "-id"):
        verifications.setdefault(verification.consent_id, verification)
    return [
        CustomerState(
            customer=customer,
            may_switch=scope.acts_as_customer(customer.pk),
            consent=latest.get(customer.pk),
            verification=verifications.get(latest[customer.pk].pk) if customer.pk in latest else None,
        )
        for customer in customers
    ]


def _is_open(consent: Consent) -> bool:
    return consent.status in (ConsentStatus.PENDING, ConsentStatus.ACTIVE)


def state_for(*, scope: Scope, customer: Customer, now: datetime) -> CustomerState:
    consent = open_consent(customer=customer) or (
        Consent.objects.filter(customer=customer).select_related("terms").order_by("-accepted_at", "-id").first()
    )
    return CustomerState(
        customer=customer,
        may_switch=scope.everything().acts_as_customer(customer.pk),
        consent=consent,
        verification=open_verification(consent=consent, now=now) if consent is not None else None,
    )


def history(*, customer: Customer) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(customer=customer).select_related("actor").order_by("-occurred_at", "-id")


def deliveries(*, scope: Scope, customer: Customer) -> QuerySet[Delivery]:
    """The customer's e-mailed invoices that the user may see (a partial manager: those of their points)."""
    return (
        scope.everything()
        .rows(Delivery.objects, customer="invoice__customer_id", point="invoice__delivery_point_id")
        .filter(customer=customer)
        .select_related("invoice")
        .order_by("-invoice__issue_date", "-id")
    )


# --- Delivery --------------------------------------------------------------------------------------------------


def _start_day():
    return TruncDate("active_from", tzinfo=ZoneInfo(settings.TIME_ZONE))


def consents_covering() -> QuerySet[Consent]:
    """Consents that were ever in force, with the local day they started (invoices from that day on are e-mailed)."""
    return Consent.objects.filter(active_from__isnull=False).annotate(start_day=_start_day())


def consent_for_invoice(*, consents: list[Consent], issue_date: date) -> Consent | None:
    """Of one customer's consents, the one in force on the invoice's issue date (the newest if two overlap)."""
    in_force = [
        consent
        for consent in consents
        if consent.start_day <= issue_date and (consent.ends_on is None or issue_date < consent.ends_on)
    ]
    return max(in_force, key=lambda consent: consent.active_from, default=None)


def invoices_missing_delivery(*, limit: int) -> list[int]:
    """Invoices issued while a consent was in force that have no delivery at all: the sweep's work."""
    in_force = (
        consents_covering()
        .filter(customer=OuterRef("customer_id"), start_day__lte=OuterRef("issue_date"))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=OuterRef("issue_date")))
    )
    return list(
        Invoice.objects.filter(Exists(in_force))
        .exclude(Exists(Delivery.objects.filter(invoice=OuterRef("pk"))))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def deliveries_due(*, before: datetime, limit: int) -> list[int]:
    """Pending deliveries whose task should have run by now (a lost message, a worker restart)."""
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True, created_at__lt=before) | Q(next_attempt_at__lt=before))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
