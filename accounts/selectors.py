"""Reads scoped to the acting user. Every other app's selectors start here."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account import app_settings as allauth_settings
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core import signing
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import (
    AccessRole,
    Consent,
    ConsentKind,
    ContactChange,
    Customer,
    CustomerAccess,
    DeletionRequest,
    DeletionRequestStatus,
    DeliveryPoint,
    LoginEvent,
    Registration,
    RegistrationStatus,
    TermsVersion,
    User,
)
from accounts.permissions import Scope

# --- Account security, registration, settings -------------------------------------------------------------

REGISTRATION_TOKEN_SALT = "accounts.registration"


class RegistrationLinkInvalid(Exception):
    """The link was altered or belongs to no registration."""


class RegistrationLinkExpired(Exception):
    """The link is older than ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS."""


class RegistrationLinkAlreadyUsed(Exception):
    """The account of this link is already active."""


def current_terms(*, now: datetime) -> TermsVersion | None:
    """The terms version in force: the newest one already published."""
    return TermsVersion.objects.filter(published_at__lte=now).order_by("-published_at", "-id").first()


def terms_versions(*, now: datetime) -> list[TermsVersion]:
    """Every version already published, newest (the one in force) first."""
    return list(TermsVersion.objects.filter(published_at__lte=now).order_by("-published_at", "-id"))


def terms_accepted(*, user: User, terms: TermsVersion) -> bool:
    return Consent.objects.filter(user=user, kind=ConsentKind.TERMS, given=True, terms_version=terms).exists()


def terms_ever_accepted(*, user: User) -> bool:
    """Whether the user accepted any version of the terms (else a first acceptance is asked, not a new one)."""
    return Consent.objects.filter(user=user, kind=ConsentKind.TERMS, given=True).exists()


def registration_from_token(*, token: str) -> Registration:
    """The pending registration a verification link points to.

    Raises RegistrationLinkInvalid, RegistrationLinkExpired, RegistrationLinkAlreadyUsed.
    """
    max_age = timedelta(days=allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS)
    try:
        data = signing.loads(token, salt=REGISTRATION_TOKEN_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise RegistrationLinkExpired from exc
    except signing.BadSignature as exc:
        raise RegistrationLinkInvalid from exc
    registration = Registration.objects.filter(pk=data.get("r"), email=data.get("e")).select_related("customer").first()
    if registration is None or registration.status not in {RegistrationStatus.PENDING, RegistrationStatus.COMPLETED}:
        raise RegistrationLinkInvalid
    if registration.status == RegistrationStatus.COMPLETED:
        raise RegistrationLinkAlreadyUsed
    return registration


def owned_customers(*, user: User) -> QuerySet[Customer]:
    """Customers the user is (the owner's login), not merely manages."""
    return Customer.objects.filter(
        Exists(CustomerAccess.objects.filter(user=user, customer=OuterRef("pk"), role=AccessRole.OWNER))
    ).order_by("number", "id")


def owner_language(*, customer: Customer) -> str:
    """The language of the customer's own login, for e-mails sent in the background; Polish without one."""
    language = (
        CustomerAccess.objects.filter(customer=customer, role=AccessRole.OWNER)
        .values_list("user__language", flat=True)
        .first()
    )
    return language or settings.LANGUAGE_CODE


def user_for_login(*, identifier: str) -> User | None:
    """The user a login form entry names: username, e-mail or an owned customer number."""
    identifier = identifier.strip()
    if not identifier:
        return None
    return (
        User.objects.filter(
            Q(username__iexact=identifier)
            | Q(email__iexact=identifier)
            | Q(customer_accesses__customer__number=identifier, customer_accesses__role=AccessRole.OWNER)
        )
        .order_by("id")
        .first()
    )


def previous_login(*, user: User, before: datetime) -> LoginEvent | None:
    return (
        LoginEvent.objects.filter(user=user, succeeded=True, occurred_at__lt=before)
        .order_by("-occurred_at", "-id")
        .first()
    )


def failed_logins_since(*, user: User, since: datetime | None) -> int:
    events = LoginEvent.objects.filter(user=user, succeeded=False)
    if since is not None:
        events = events.filter(occurred_at__gt=since)
    return events.count()


@dataclass(frozen=True)
class ContactRow:
    customer: Customer
    last_change: ContactChange | None

    @property
    def address_for_letters(self) -> str:
        return self.last_change.address if self.last_change else self.customer.address


@dataclass(frozen=True)
class SettingsOverview:
    customers: list[ContactRow]
    consents: list[Consent]
    login_events: list[LoginEvent]
    open_deletion_request: DeletionRequest | None
    has_mfa: bool
    current_terms: TermsVersion | None


def settings_overview(*, user: User, now: datetime, login_limit: int = 10) -> SettingsOverview:
    """Everything the settings page shows, in a fixed number of queries."""
    customers = list(owned_customers(user=user))
    changes = ContactChange.objects.filter(user=user, customer__in=[c.pk for c in customers]).order_by(
        "customer_id", "-requested_at", "-id"
    )
    latest: dict[int, ContactChange] = {}
    for change in changes:
        latest.setdefault(change.customer_id, change)
    return SettingsOverview(
        customers=[ContactRow(customer=c, last_change=latest.get(c.pk)) for c in customers],
        consents=list(
            Consent.objects.filter(user=user).select_related("terms_version").order_by("-recorded_at", "-id")
        ),
        login_events=list(LoginEvent.objects.filter(user=user).order_by("-occurred_at", "-id")[:login_limit]),
        open_deletion_request=DeletionRequest.objects.filter(user=user, status=DeletionRequestStatus.OPEN).first(),
        has_mfa=Authenticator.objects.filter(user=user).exists(),
        current_terms=current_terms(now=now),
    )


def user_has_mfa(*, user: User) -> bool:
    return Authenticator.objects.filter(user=user).exists()


# --- Property managers -----------------------------------------------------------------------------------------


def switchable_customers(*, scope: Scope, search: str = "") -> QuerySet[Customer]:
    """The customers the user acts for (all of them, whatever the switcher's choice): by number, name or address."""
    customers = scope.everything().customers()
    search = search.strip()
    if search:
        customers = customers.filter(
            Q(number__icontains=search)
            | Q(name__icontains=search)
            | Q(street__icontains=search)
            | Q(city__icontains=search)
            | Q(delivery_points__street__icontains=search)
        ).distinct()
    return customers


def customers_by_numbers(*, numbers: list[str]) -> dict[str, Customer]:
    """Staff (manager grants): the customers with these numbers, by number; unknown numbers are missing."""
    return {c.number: c for c in Customer.objects.filter(number__in=numbers)}


def points_by_codes(*, codes: list[str]) -> dict[str, DeliveryPoint]:
    """Staff (manager grants): the delivery points with these codes, by code; unknown codes are missing."""
    return {p.code: p for p in DeliveryPoint.objects.filter(code__in=codes)}


def manager_accesses(*, user: User) -> QuerySet[CustomerAccess]:
    """Staff: a manager's accesses with their customers and granted points (3 queries)."""
    return (
        CustomerAccess.objects.filter(user=user, role=AccessRole.MANAGER)
        .select_related("customer")
        .prefetch_related("points")
        .order_by("customer__number", "id")
    )
