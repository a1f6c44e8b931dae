"""Reads of the shared plumbing: how much work waits in the outbox, and since when; the workers' heartbeat."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min

from core.models import Heartbeat, OutboxMessage, OutboxStatus, QueuedTask


@dataclass(frozen=True)
class Waiting:
    """Rows not yet handed on: how many, and when the oldest was written (None when there are none)."""

    count: int
    oldest_at: datetime | None

    def age_seconds(self, now: datetime) -> float:
        return max((now - self.oldest_at).total_seconds(), 0.0) if self.oldest_at else 0.0


def queued_tasks_waiting() -> Waiting:
    """Queued tasks not yet handed to Celery (core.jobs)."""
    row = QueuedTask.objects.filter(relayed_at__isnull=True).aggregate(count=Count("id"), oldest_at=Min("created_at"))
    return Waiting(**row)


def billing_messages_waiting() -> Waiting:
    """Messages to the billing system not yet delivered (FAILED ones wait for staff, not for the relay)."""
    row = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).aggregate(
        count=Count("id"), oldest_at=Min("created_at")
    )
    return Waiting(**row)


def last_heartbeat(*, name: str = "celery") -> datetime | None:
    return Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
