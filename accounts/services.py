"""Every write of the accounts app: registration, activation, consents, contact data, deletion requests."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import permissions, proofs, selectors, signals
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
    ManagerRequest,
    ManagerRequestStatus,
    Registration,
    RegistrationStatus,
    TermsVersion,
    User,
)
from core import versions
from core.emails import absolute_url, render_email, send_email
from core.jobs import enqueue
from core.services import audit_record, outbox_put


class RegistrationLinkUsed(Exception):
    """The link's registration was already completed (the account exists)."""


class CustomerAlreadyRegistered(Exception):
    """Someone activated this customer number in the meantime."""


class EmailAlreadyUsed(Exception):
    """Another account took this e-mail in the meantime."""


class CustomerProofRejected(Exception):
    """Wrong pair, unknown number or someone else's customer: one answer for all three."""


class CustomerAlreadyYours(Exception):
    """The user already holds this customer number."""


class CustomerManagedByYou(Exception):
    """The user manages this customer's properties: the office changes the scope, the number stays the customer's."""


class ContactChangeNotAllowed(Exception):
    """Only the customer (owner) may change the customer's contact data."""


class DeletionAlreadyRequested(Exception):
    """An earlier deletion request is still waiting for the office."""


def normalize_customer_number(value: str) -> str:
    return "".join(value.split())


def registration_submit(
    *,
    customer_number: str,
    invoice_number: str | None,
    amount: Decimal | None,
    email: str,
    phone: str,
    einvoice_requested: bool,
    language: str,
    ip_address: str | None,
    base_url: str,
    now: datetime,
) -> Registration:
    """Record a registration attempt and queue its e-mail; the caller shows one neutral answer whatever the outcome.

    Every path runs the same queries (customer, proof, owner, e-mail, terms, insert) and queues the same task,
    so neither the answer nor its timing tells whether the number exists, the pair matched or it is taken.
    """
    number = normalize_customer_number(customer_number)
    customer = Customer.objects.filter(number=number).first()
    proven = proofs.proof_matches(customer=customer, invoice_number=invoice_number, amount=amount)
    owned = CustomerAccess.objects.filter(customer_id=customer.pk if customer else None, role=AccessRole.OWNER).exists()
    email_taken = User.objects.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email)).exists()
    terms = selectors.current_terms(now=now)
    if not proven:
        status = RegistrationStatus.REJECTED
    elif owned:
        status = RegistrationStatus.ALREADY_REGISTERED
    elif email_taken:
        status = RegistrationStatus.EMAIL_TAKEN
    else:
        status = RegistrationStatus.PENDING
    with transaction.atomic():
        registration = Registration.objects.create(
            created_at=now,
            ip_address=ip_address,
            language=language,
            customer_number=number[:32],
            customer=customer,
            email=email,
            phone=phone,
            terms_version=terms,
            einvoice_requested=einvoice_requested,
            status=status,
        )
        enqueue("accounts.registration_email_send", registration_id=registration.pk, base_url=base_url)
    return registration


def registration_token(*, registration: Registration) -> str:
    return signing.dumps({"r": registration.pk, "e": registration.email}, salt=selectors.REGISTRATION_TOKEN_SALT)


def _claim(registration_id: int, field: str, now: datetime) -> bool:
    return Registration.objects.filter(pk=registration_id, **{f"{field}__isnull": True}).update(**{field: now}) == 1


def _send_claimed(registration_id: int, field: str, send) -> None:
    try:
        send()
    except Exception:
        # Give the claim back so the retry sends the e-mail.
        Registration.objects.filter(pk=registration_id).update(**{field: None})
        raise


def registration_email_deliver(*, registration_id: int, base_url: str, now: datetime) -> None:
    """Send what the attempt calls for, once: the verification link, or a notice to the true owner."""
    if not _claim(registration_id, "email_sent_at", now):
        return
    registration = Registration.objects.select_related("customer").get(pk=registration_id)
    if registration.status == RegistrationStatus.PENDING:
        token = registration_token(registration=registration)
        link = absolute_url(reverse("accounts:register-confirm", kwargs={"token": token}), base_url=base_url)
        to, name, context = registration.email, "registration_verify", {"link": link}
    elif registration.status == RegistrationStatus.ALREADY_REGISTERED:
        owner = (
            CustomerAccess.objects.filter(customer=registration.customer, role=AccessRole.OWNER)
            .select_related("user")
            .first()
        )
        if owner is None or not owner.user.email:
            return
        to, name = owner.user.email, "registration_already_registered"
        context = {
            "customer_number": registration.customer_number,
            "login_url": absolute_url(reverse("account_login"), base_url=base_url),
        }
        registration.language = owner.user.language
    elif registration.status == RegistrationStatus.EMAIL_TAKEN:
        to, name = registration.email, "registration_email_taken"
        holder = User.objects.filter(email__iexact=registration.email).first()
        registration.language = holder.language if holder else registration.language
        context = {
            "customer_number": registration.customer_number,
            "login_url": absolute_url(reverse("account_login"), base_url=base_url),
        }
    else:
        # A wrong pair or an unknown number: the address given is not proven to belong to anyone; write nothing.
        return
    subject, text, html = render_email(name, {"registration": registration, **context}, language=registration.language)
    _send_claimed(registration_id, "email_sent_at", lambda: send_email(to=to, subject=subject, text=text, html=html))


def registration_resend(*, registration: Registration, actor: User, now: datetime, base_url: str) -> bool:
    """Staff: send the verification link of a pending registration again (a new link; the old one stays valid)."""
    if not registration.is_pending:
        return False
    with transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(email_sent_at=None)
        audit_record(now=now, action="accounts.registration_resend", actor=actor, target=registration)
        enqueue("accounts.registration_email_send", registration_id=registration.pk, base_url=base_url)
    return True


def _record_consents(
    *,
    user: User,
    kinds: list[str],
    terms: TermsVersion | None,
    now: datetime,
    ip_address: str | None,
    user_agent: str,
) -> None:
    Consent.objects.bulk_create(
        [
            Consent(
                user=user,
                kind=kind,
                given=True,
                terms_version=terms,
                text_sha256=terms.text_sha256 if terms is not None else "",
                recorded_at=now,
                ip_address=ip_address,
                user_agent=user_agent[:300],
            )
            for kind in kinds
        ]
    )


def registration_complete(
    *,
    registration: Registration,
    password: str,
    now: datetime,
    ip_address: str | None,
    base_url: str,
    user_agent: str = "",
) -> User:
    """Create the account from a verified registration: the user, their e-mail (verified), owner access, consents.

    Raises RegistrationLinkUsed, CustomerAlreadyRegistered, EmailAlreadyUsed. The activation e-mail is queued and
    account_activated sent in the transaction; einvoice_requested_at_registration after the commit.
    """
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update(of=("self",)).select_related("customer").get(pk=registration.pk)
        )
        if registration.status != RegistrationStatus.PENDING:
            raise RegistrationLinkUsed
        customer = registration.customer
        if CustomerAccess.objects.filter(customer=customer, role=AccessRole.OWNER).exists():
            raise CustomerAlreadyRegistered
        if User.objects.filter(
            Q(email__iexact=registration.email) | Q(emailaddress__email__iexact=registration.email)
        ).exists():
            raise EmailAlreadyUsed
        username = customer.number
        if User.objects.filter(username=username).exists():
            raise CustomerAlreadyRegistered
        user = User(
            username=username,
            email=registration.email,
            phone=registration.phone,
            language=registration.language,
        )
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
                CustomerAccess.objects.create(user=user, customer=customer, role=AccessRole.OWNER, granted_at=now)
        except IntegrityError as exc:
            raise CustomerAlreadyRegistered from exc
        EmailAddress.objects.create(user=user, email=registration.email, verified=True, primary=True)
        kinds = [ConsentKind.TERMS, ConsentKind.DATA_PROCESSING]
        if registration.einvoice_requested:
            kinds.append(ConsentKind.EINVOICE)
        _record_consents(
            user=user,
            kinds=kinds,
            terms=registration.terms_version,
            now=now,
            ip_address=ip_address,
            user_agent=user_agent,
        )
        registration.status = RegistrationStatus.COMPLETED
        registration.user = user
        registration.completed_at = now
        registration.save(update_fields=["status", "user", "completed_at"])
        audit_record(
            now=now,
            action="accounts.account_activated",
            actor=user,
            target=user,
            ip_address=ip_address,
            details={"customer_number": customer.number, "registration_id": registration.pk},
        )
        registration_id, customer_id = registration.pk, customer.pk
        enqueue("accounts.activation_email_send", registration_id=registration_id, base_url=base_url)
        # Receivers queue their background work (a sync of the customer) in this transaction.
        signals.account_activated.send(sender=User, user=user, customer_ids=[customer_id])

        def after_commit() -> None:
            if registration.einvoice_requested:
                signals.einvoice_requested_at_registration.send(
                    sender=User, user=user, customer_id=customer_id, email=user.email, registration_id=registration_id
                )

        transaction.on_commit(after_commit)
    return user


def activation_email_deliver(*, registration_id: int, base_url: str, now: datetime) -> None:
    """The activation confirmation: the account works and the customer number is the login. Never a password."""
    if not _claim(registration_id, "activation_sent_at", now):
        return
    registration = Registration.objects.select_related("user", "customer").get(pk=registration_id)
    user = registration.user
    context = {
        "registration": registration,
        "customer_number": registration.customer.number,
        "login_url": absolute_url(reverse("account_login"), base_url=base_url),
    }
    subject, text, html = render_email("account_activated", context, language=user.language)
    _send_claimed(
        registration_id,
        "activation_sent_at",
        lambda: send_email(to=user.email, subject=subject, text=text, html=html),
    )


def customer_access_add(
    *,
    user: User,
    customer_number: str,
    invoice_number: str | None,
    amount: Decimal | None,
    now: datetime,
    ip_address: str | None,
) -> CustomerAccess:
    """Add another customer number to the user's account after the same proof as at registration.

    Raises CustomerAlreadyYours, CustomerProofRejected (wrong pair, unknown number, someone else's customer).
    """
    number = normalize_customer_number(customer_number)
    customer = Customer.objects.filter(number=number).first()
    proven = proofs.proof_matches(customer=customer, invoice_number=invoice_number, amount=amount)
    owner_id = (
        CustomerAccess.objects.filter(customer_id=customer.pk if customer else None, role=AccessRole.OWNER)
        .values_list("user_id", flat=True)
        .first()
    )
    if proven and owner_id == user.pk:
        raise CustomerAlreadyYours
    # A manager's scope is the office's to change; the customer number stays the customer's login.
    if proven and permissions.scope_for(user=user).manages(customer.pk):
        raise CustomerManagedByYou
    if not proven or owner_id is not None:
        raise CustomerProofRejected
    with transaction.atomic():
        try:
            with transaction.atomic():
                access, _created = CustomerAccess.objects.update_or_create(
                    user=user,
                    customer=customer,
                    defaults={"role": AccessRole.OWNER, "all_points": True, "granted_at": now},
                )
        except IntegrityError as exc:
            raise CustomerProofRejected from exc
        audit_record(
            now=now,
            action="accounts.customer_added",
            actor=user,
            target=customer,
            ip_address=ip_address,
            details={"customer_number": customer.number},
        )
        signals.account_activated.send(sender=User, user=user, customer_ids=[customer.pk])
    return access


def terms_accept(
    *, user: User, terms: TermsVersion, now: datetime, ip_address: str | None, user_agent: str = ""
) -> Consent:
    """Record the acceptance of a terms version: the version, the SHA-256 of its text, time, address and browser."""
    return Consent.objects.create(
        user=user,
        kind=ConsentKind.TERMS,
        given=True,
        terms_version=terms,
        text_sha256=terms.text_sha256,
        recorded_at=now,
        ip_address=ip_address,
        user_agent=user_agent[:300],
    )


def contact_change_submit(
    *,
    user: User,
    customer: Customer,
    street: str,
    building: str,
    apartment: str,
    postal_code: str,
    city: str,
    phone: str,
    now: datetime,
    ip_address: str | None,
) -> ContactChange:
    """Record the new address for letters and phone and queue them for the billing system in the same transaction.

    Raises ContactChangeNotAllowed unless accounts.permissions lets the user change the customer's base data
    (the customer, or a manager of all its points; not a manager of some points). Only the customer's own
    login also takes the phone as the account's phone.
    """
    scope = permissions.scope_for(user=user)
    if not scope.acts_as_customer(customer.pk):
        raise ContactChangeNotAllowed
    is_owner = customer.pk in scope.owned_customer_ids
    with transaction.atomic():
        change = ContactChange.objects.create(
            user=user,
            customer=customer,
            requested_at=now,
            street=street,
            building=building,
            apartment=apartment,
            postal_code=postal_code,
            city=city,
            phone=phone,
        )
        versions.bump([customer.pk])
        if is_owner:
            User.objects.filter(pk=user.pk).update(phone=phone)
            user.phone = phone
        outbox_put(
            now=now,
            kind="contact_change",
            customer_number=customer.number,
            idempotency_key=f"accounts.contact_change:{change.pk}",
            payload={
                "customer_number": customer.number,
                "requested_at": now.isoformat(),
                "correspondence_address": {
                    "street": street,
                    "building": building,
                    "apartment": apartment,
                    "postal_code": postal_code,
                    "city": city,
                },
                "phone": str(phone),
            },
        )
        audit_record(now=now, action="accounts.contact_change", actor=user, target=change, ip_address=ip_address)
    return change


def language_set(*, user: User, language: str) -> None:
    """The language of the portal and of the e-mails the user gets."""
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def deletion_blockers(*, user: User) -> list[str]:
    """Why the account cannot be deleted at once (what the user owes, per the apps that know); [] for nothing."""
    customer_ids = list(
        CustomerAccess.objects.filter(user=user, role=AccessRole.OWNER).values_list("customer_id", flat=True)
    )
    reasons: list[str] = []
    for _receiver, answer in signals.account_deletion_blockers.send(sender=User, user=user, customer_ids=customer_ids):
        reasons.extend(answer or [])
    return reasons


def deletion_request_submit(*, user: User, reason: str, now: datetime, ip_address: str | None) -> DeletionRequest:
    """Record the user's request to delete the account: carried out at once when nothing is owed
    (deletion_blockers), otherwise left for the office to approve. Raises DeletionAlreadyRequested."""
    with transaction.atomic():
        if DeletionRequest.objects.filter(user=user, status=DeletionRequestStatus.OPEN).exists():
            raise DeletionAlreadyRequested
        try:
            with transaction.atomic():
                request = DeletionRequest.objects.create(
                    user=user, username=user.get_username(), requested_at=now, reason=reason, ip_address=ip_address
                )
        except IntegrityError as exc:
            raise DeletionAlreadyRequested from exc
        audit_record(now=now, action="accounts.deletion_requested", actor=user, target=request, ip_address=ip_address)
        if not deletion_blockers(user=user):
            account_erase(request=request, actor=None, now=now)
            request.refresh_from_db()
    return request


def account_erase(*, request: DeletionRequest, actor: User | None, now: datetime) -> None:
    """Carry out a deletion request: erase or anonymise the user's personal data; keep what tax law requires.

    The login becomes `deleted-<id>`, inactive, without password, e-mail, names or phone (every session of it stops
    working, its password hash being gone); its e-mail addresses, second factors, customer accesses and contact
    changes are deleted; login history, consents and registrations keep their dates without address, browser or
    e-mail. Invoices and payments of the customers the user owned stay, marked by billing with the date after
    which the scheduled purge removes them (account_erasing). The customer is told by e-mail at the old address.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=request.user_id)
        email, language = user.email, user.language
        customer_ids = list(
            CustomerAccess.objects.filter(user=user, role=AccessRole.OWNER).values_list("customer_id", flat=True)
        )
        signals.account_erasing.send(sender=User, user=user, customer_ids=customer_ids, now=now)
        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        CustomerAccess.objects.filter(user=user).delete()
        ContactChange.objects.filter(user=user).delete()
        LoginEvent.objects.filter(user=user).update(identifier="", ip_address=None, user_agent="")
        Consent.objects.filter(user=user).update(ip_address=None, user_agent="")
        Registration.objects.filter(user=user).update(email="", phone="", ip_address=None)
        ManagerRequest.objects.filter(user=user).update(contact_name="", email="", phone="", ip_address=None)
        user.username = f"deleted-{user.pk}"
        user.email = user.first_name = user.last_name = ""
        user.phone = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        DeletionRequest.objects.filter(pk=request.pk).update(
            status=DeletionRequestStatus.DONE,
            handled_at=now,
            handled_by=actor,
            username=user.username,
            reason="",
            ip_address=None,
        )
        audit_record(
            now=now,
            action="accounts.account_erased",
            actor=actor,
            target=user,
            details={"deletion_request_id": request.pk, "customers": len(customer_ids)},
        )
        if email:
            subject, text, html = render_email("account_deleted", {}, language=language)
            enqueue("accounts.email_send", to=email, subject=subject, text=text, html=html)


def deletion_request_close(*, request: DeletionRequest, status: str, actor: User, now: datetime) -> bool:
    """Staff: approve an open deletion request (the account is erased, account_erase) or reject it (audited).
    False when it was not open."""
    with transaction.atomic():
        if status == DeletionRequestStatus.DONE:
            claimed = (
                DeletionRequest.objects.select_for_update()
                .filter(pk=request.pk, status=DeletionRequestStatus.OPEN, user__isnull=False)
                .first()
            )
            if claimed is None:
                return False
            account_erase(request=claimed, actor=actor, now=now)
            updated = 1
        else:
            updated = DeletionRequest.objects.filter(pk=request.pk, status=DeletionRequestStatus.OPEN).update(
                status=status, handled_at=now, handled_by=actor
            )
        if updated:
            audit_record(
                now=now,
                action="accounts.deletion_request_closed",
                actor=actor,
                target=request,
                details={"status": status},
            )
    return bool(updated)


def login_event_record(
    *, user: User | None, identifier: str, succeeded: bool, ip_address: str | None, user_agent: str, now: datetime
) -> LoginEvent:
    return LoginEvent.objects.create(
        occurred_at=now,
        user=user,
        identifier=identifier[:254],
        succeeded=succeeded,
        ip_address=ip_address,
        user_agent=user_agent[:300],
    )


def data_export_record(*, user: User, now: datetime, ip_address: str | None) -> None:
    audit_record(now=now, action="accounts.data_exported", actor=user, target=user, ip_address=ip_address)


def unlock_record(*, user: User, actor: User, now: datetime, details: dict[str, Any]) -> None:
    audit_record(now=now, action="accounts.unlocked", actor=actor, target=user, details=details)


# --- Property managers (seed 003) ----------------------------------------------------------------------------


class ManagerGrantRefused(Exception):
    """The grant or revocation cannot be made (the message says why, for staff)."""


def manager_request_submit(
    *,
    user: User | None,
    company_name: str,
    nip: str,
    contact_name: str,
    email: str,
    phone: str,
    properties: str,
    document: UploadedFile | None,
    language: str,
    ip_address: str | None,
    now: datetime,
) -> ManagerRequest:
    """Record a property manager's request for access; staff handle it in the admin. Checked input only."""
    with transaction.atomic():
        request = ManagerRequest(
            created_at=now,
            user=user if user is not None and user.is_authenticated else None,
            company_name=company_name,
            nip=nip,
            contact_name=contact_name,
            email=email,
            phone=phone,
            properties=properties,
            language=language,
            ip_address=ip_address,
        )
        if document is not None:
            request.document.save(f"{nip}-{now:%Y%m%d%H%M%S}.pdf", document, save=False)
        request.save()
        audit_record(
            now=now,
            action="accounts.manager_request_sent",
            actor=request.user,
            target=request,
            ip_address=ip_address,
            details={"company_name": company_name, "nip": nip},
        )
    return request


def manager_account_for(*, request: ManagerRequest, now: datetime) -> User:
    """The account access is granted to: the one that sent the request, or one with its e-mail (created once).

    A new account has no password: the access e-mail carries a link to set one.
    """
    if request.user_id is not None:
        return request.user
    email = request.email.strip().lower()
    user = User.objects.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email)).order_by("id").first()
    if user is None:
        user = User(username=email[:150], email=email, phone=request.phone, language=request.language)
        user.set_unusable_password()
        user.save()
        # Staff checked the request (company, NIP, authorisation); the set-password link proves the address.
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    ManagerRequest.objects.filter(pk=request.pk).update(user=user)
    request.user = user
    return user


def manager_access_grant(
    *,
    manager: User,
    customer: Customer,
    all_points: bool,
    points: Sequence[DeliveryPoint] = (),
    actor: User,
    now: datetime,
    request: ManagerRequest | None = None,
) -> CustomerAccess:
    """Give (or change) a manager's access to one customer: all delivery points or the chosen ones; audited.

    The request, if any, is marked handled. The manager is e-mailed after commit (once for a batch of grants).
    Raises ManagerGrantRefused (the customer's own login, no points chosen, a point of another customer).
    """
    if not all_points and not points:
        raise ManagerGrantRefused(_("Choose at least one delivery point, or grant all of them."))
    if any(point.customer_id != customer.pk for point in points):
        raise ManagerGrantRefused(_("A chosen delivery point belongs to another customer."))
    with transaction.atomic():
        existing = CustomerAccess.objects.select_for_update().filter(user=manager, customer=customer).first()
        if existing is not None and existing.role == AccessRole.OWNER:
            raise ManagerGrantRefused(
                _("%(user)s is the customer's own login; a manager's access is not needed.") % {"user": manager}
            )
        previous = None
        if existing is not None:
            previous = {
                "all_points": existing.all_points,
                "point_codes": sorted(existing.points.values_list("code", flat=True)),
            }
        access, _created = CustomerAccess.objects.update_or_create(
            user=manager,
            customer=customer,
            defaults={
                "role": AccessRole.MANAGER,
                "all_points": all_points,
                "granted_at": now,
                "manager_notified_at": None,
            },
        )
        access.points.set([] if all_points else list(points))
        if request is not None and request.is_pending:
            ManagerRequest.objects.filter(pk=request.pk, status=ManagerRequestStatus.PENDING).update(
                status=ManagerRequestStatus.HANDLED, handled_at=now, handled_by=actor, user=manager
            )
        audit_record(
            now=now,
            action="accounts.manager_access_granted",
            actor=actor,
            target=access,
            details={
                "manager": manager.get_username(),
                "customer_number": customer.number,
                "all_points": all_points,
                "point_codes": sorted(point.code for point in points) if not all_points else [],
                "previous": previous,
                "request_id": request.pk if request is not None else None,
            },
        )
        enqueue("accounts.manager_access_email_send", user_id=manager.pk)
    return access


def manager_access_revoke(*, access: CustomerAccess, actor: User, now: datetime) -> None:
    """Take a manager's access to a customer away; audited. Raises ManagerGrantRefused for the customer's login."""
    with transaction.atomic():
        locked = CustomerAccess.objects.select_for_update().select_related("user", "customer").get(pk=access.pk)
        if locked.role != AccessRole.MANAGER:
            raise ManagerGrantRefused(_("This is the customer's own login, not a manager's access."))
        audit_record(
            now=now,
            action="accounts.manager_access_revoked",
            actor=actor,
            target=locked,
            details={
                "manager": locked.user.get_username(),
                "customer_number": locked.customer.number,
                "all_points": locked.all_points,
                "point_codes": sorted(locked.points.values_list("code", flat=True)),
            },
        )
        locked.delete()


def manager_request_reject(*, request: ManagerRequest, actor: User, now: datetime) -> bool:
    """Staff: close a pending request without access; audited. Returns False if it was already handled."""
    with transaction.atomic():
        closed = ManagerRequest.objects.filter(pk=request.pk, status=ManagerRequestStatus.PENDING).update(
            status=ManagerRequestStatus.REJECTED, handled_at=now, handled_by=actor
        )
        if closed:
            audit_record(now=now, action="accounts.manager_request_rejected", actor=actor, target=request)
    return bool(closed)


def manager_access_email_deliver(*, user_id: int, base_url: str, now: datetime) -> bool:
    """Tell a manager which customers they were given (or changed) access to, once: the accesses are claimed.

    An account without a password gets a link to set one. Returns False when there was nothing to tell.
    """
    with transaction.atomic():
        claimed = list(
            CustomerAccess.objects.select_for_update(skip_locked=True)
            .filter(user_id=user_id, role=AccessRole.MANAGER, manager_notified_at__isnull=True)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        if not claimed:
            return False
        CustomerAccess.objects.filter(pk__in=claimed).update(manager_notified_at=now)
    user = User.objects.get(pk=user_id)
    accesses = list(
        CustomerAccess.objects.filter(pk__in=claimed)
        .select_related("customer")
        .annotate(point_count=Count("points"))
        .order_by("customer__number", "id")
    )
    context = {
        "user": user,
        "accesses": accesses,
        "login_url": absolute_url(reverse("account_login"), base_url=base_url),
        "overview_url": absolute_url(reverse("pages:manager-overview"), base_url=base_url),
        "password_url": "",
    }
    if not user.has_usable_password():
        key = default_token_generator.make_token(user)
        context["password_url"] = absolute_url(
            reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key}),
            base_url=base_url,
        )
    subject, text, html = render_email("manager_access_granted", context, language=user.language)
    try:
        send_email(to=user.email, subject=subject, text=text, html=html)
    except Exception:
        # Give the claim back so the retry sends the e-mail.
        CustomerAccess.objects.filter(pk__in=claimed).update(manager_notified_at=None)
        raise
    return True


def access_edit_record(*, access: CustomerAccess, actor: User, now: datetime, action: str) -> None:
    """Audit a CustomerAccess staff edited directly in the admin ("granted", "changed" or "revoked").

    Call after the points are saved (or before the row is deleted); a manager is e-mailed about a grant or change.
    """
    details = {
        "user": access.user.get_username(),
        "customer_number": access.customer.number,
        "role": access.role,
        "all_points": access.all_points,
        "point_codes": sorted(access.points.values_list("code", flat=True)) if access.pk else [],
        "via": "admin",
    }
    with transaction.atomic():
        audit_record(now=now, action=f"accounts.access_{action}", actor=actor, target=access, details=details)
        if action != "revoked" and access.role == AccessRole.MANAGER:
            CustomerAccess.objects.filter(pk=access.pk).update(manager_notified_at=None)
            enqueue("accounts.manager_access_email_send", user_id=access.user_id)


def passkey_prompt_close(*, user: User, now: datetime) -> None:
    """Stop offering a passkey on the dashboard: the user added one or closed the offer. Raises nothing."""
    User.objects.filter(pk=user.pk, passkey_prompt_closed_at__isnull=True).update(passkey_prompt_closed_at=now)
    user.passkey_prompt_closed_at = user.passkey_prompt_closed_at or now
