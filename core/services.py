"""Shared writes: the audit log, the outbox to the billing system, heartbeats."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q

from core.models import AuditLogEntry, Heartbeat, OutboxMessage, OutboxStatus


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


def outbox_deliver_due(*, now: datetime, limit: int = 500) -> dict[str, int]:
    """Deliver due outbox messages, oldest first and in order per customer.

    A customer's message waits while an earlier one of the same customer is undelivered, so the billing
    system sees a customer's changes in the order they were made. Each message is claimed with a row lock
    (skip_locked), so two workers never send the same one at the same time; the receiver's idempotency key
    check covers a worker that died after sending and before recording.
    """
    from core import outbox

    counts = {"delivered": 0, "retry": 0, "failed": 0}
    heads: dict[str, int] = {}
    for message_id, customer_number in (
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING).order_by("id").values_list("id", "customer_number")
    ):
        heads.setdefault(customer_number, message_id)
        if len(heads) >= limit:
            break
    for message_id in sorted(heads.values()):
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=message_id, status=OutboxStatus.PENDING)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .first()
            )
            if message is None:
                continue
            message.attempts += 1
            try:
                outbox.deliver(message)
            except outbox.DeliveryFailed as exc:
                message.last_error = str(exc)[:2000]
                if message.attempts >= settings.IBOK_OUTBOX_MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                    counts["failed"] += 1
                else:
                    # 1, 2, 4 … minutes, at most six hours between attempts.
                    message.next_attempt_at = now + timedelta(minutes=min(2 ** (message.attempts - 1), 360))
                    counts["retry"] += 1
            else:
                message.status = OutboxStatus.DELIVERED
                message.delivered_at = now
                message.last_error = ""
                counts["delivered"] += 1
            message.save()
    return counts


def heartbeat_record(*, name: str, now: datetime) -> None:
    """Note that a worker consumed the heartbeat task `name` now."""
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now})
