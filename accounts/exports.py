"""GDPR data export: everything the portal holds about a user, as one JSON document.

Other apps add their part by registering a section in their AppConfig.ready():
`register_export_section("cases", lambda *, user: [...])` returning JSON-serialisable data.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from accounts.models import (
    Consent,
    ContactChange,
    CustomerAccess,
    DeletionRequest,
    LoginEvent,
    Registration,
    User,
)

ExportSection = Callable[..., Any]

_sections: dict[str, ExportSection] = {}


def register_export_section(name: str, section: ExportSection) -> None:
    _sections[name] = section


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _account(*, user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": str(user.phone) if user.phone else "",
        "language": user.language,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in user.emailaddress_set.order_by("id")
        ],
    }


def _customers(*, user: User) -> list[dict]:
    accesses = CustomerAccess.objects.filter(user=user).select_related("customer").order_by("customer__number", "id")
    return [
        {
            "customer_number": a.customer.number,
            "name": a.customer.name,
            "address": a.customer.address,
            "nip": a.customer.nip,
            "pesel": a.customer.pesel,
            "email_in_billing_system": a.customer.email,
            "phone_in_billing_system": a.customer.phone,
            "role": a.role,
            "all_delivery_points": a.all_points,
            "granted_at": _iso(a.granted_at),
        }
        for a in accesses
    ]


def _consents(*, user: User) -> list[dict]:
    consents = Consent.objects.filter(user=user).select_related("terms_version").order_by("recorded_at", "id")
    return [
        {
            "kind": c.kind,
            "given": c.given,
            "terms_version": c.terms_version.version if c.terms_version else None,
            "recorded_at": _iso(c.recorded_at),
            "ip_address": c.ip_address,
        }
        for c in consents
    ]


def _contact_changes(*, user: User) -> list[dict]:
    changes = ContactChange.objects.filter(user=user).select_related("customer").order_by("requested_at", "id")
    return [
        {
            "customer_number": c.customer.number,
            "requested_at": _iso(c.requested_at),
            "address_for_letters": c.address,
            "phone": str(c.phone) if c.phone else "",
        }
        for c in changes
    ]


def _login_history(*, user: User) -> list[dict]:
    events = LoginEvent.objects.filter(user=user).order_by("occurred_at", "id")
    return [
        {
            "occurred_at": _iso(e.occurred_at),
            "succeeded": e.succeeded,
            "ip_address": e.ip_address,
            "user_agent": e.user_agent,
        }
        for e in events
    ]


def _registrations(*, user: User) -> list[dict]:
    return [
        {
            "customer_number": r.customer_number,
            "email": r.email,
            "created_at": _iso(r.created_at),
            "completed_at": _iso(r.completed_at),
            "ip_address": r.ip_address,
            "einvoice_requested": r.einvoice_requested,
        }
        for r in Registration.objects.filter(user=user).order_by("created_at", "id")
    ]


def _deletion_requests(*, user: User) -> list[dict]:
    return [
        {"requested_at": _iso(d.requested_at), "status": d.status, "reason": d.reason}
        for d in DeletionRequest.objects.filter(user=user).order_by("requested_at", "id")
    ]


register_export_section("account", _account)
register_export_section("customers", _customers)
register_export_section("consents", _consents)
register_export_section("registrations", _registrations)
register_export_section("contact_changes", _contact_changes)
register_export_section("login_history", _login_history)
register_export_section("deletion_requests", _deletion_requests)


def user_data_export(*, user: User, now: datetime) -> dict[str, Any]:
    """The whole export: when it was made, then one key per registered section."""
    return {"exported_at": now.isoformat(), **{name: section(user=user) for name, section in _sections.items()}}
