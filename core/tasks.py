from celery import shared_task
from django.utils import timezone

from core import services


@shared_task(ignore_result=True)
def outbox_deliver() -> dict[str, int]:
    """Every minute (Celery beat) and right after a message is queued."""
    return services.outbox_deliver_due(now=timezone.now())
