"""Shared writes: the audit log and the outbox."""

from datetime import datetime
from typing import Any

from django.db import models

from ibok.core.models import AuditLogEntry, OutboxMessage


def audit_record(
    *,
    now: datetime,
    action: str,
    actor=None,
    target: models.Model | None = None,
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Append one entry to the audit log."""
    return AuditLogEntry.objects.create(
        occurred_at=now,
        actor=actor,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        ip_address=ip_address,
        details=details or {},
    )


def outbox_put(
    *, now: datetime, kind: str, customer_number: str, idempotency_key: str, payload: dict[str, Any]
) -> OutboxMessage:
    """Queue a message for the billing system; call inside the transaction that makes the change.

    The same idempotency key twice yields the first message: a retried request queues nothing new.
    """
    message, _created = OutboxMessage.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={"created_at": now, "kind": kind, "customer_number": customer_number, "payload": payload},
    )
    return message
