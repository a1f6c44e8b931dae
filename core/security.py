"""The security log: refused and throttled requests, with the client's address and a hashed identifier."""

from datetime import datetime
from typing import Any

from django.utils.crypto import salted_hmac

from core.models import SecurityEvent

_HASH_SALT = "core.security.identifier"


def identifier_hash(identifier: str) -> str:
    """A keyed SHA-256 of a login, customer number or e-mail (spaces and case ignored); "" for none.

    Keyed with SECRET_KEY, so the log cannot be reversed by hashing a list of e-mails; a new SECRET_KEY makes older
    events unfindable by identifier (their addresses and times remain).
    """
    normalized = "".join(identifier.split()).lower()
    if not normalized:
        return ""
    return salted_hmac(_HASH_SALT, normalized, algorithm="sha256").hexdigest()


def security_event_record(
    *, now: datetime, kind: str, ip_address: str | None, identifier: str = "", details: dict[str, Any] | None = None
) -> SecurityEvent:
    """Append one event to the security log."""
    return SecurityEvent.objects.create(
        occurred_at=now,
        kind=kind,
        ip_address=ip_address,
        identifier_hash=identifier_hash(identifier),
        details=details or {},
    )
