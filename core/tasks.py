from celery import shared_task
from django.utils import timezone

from core import emails, jobs, services


@shared_task(ignore_result=True)
def outbox_deliver() -> dict[str, int]:
    """Every minute (Celery beat): messages owed to the billing system."""
    return services.outbox_deliver_due(now=timezone.now())


@shared_task(ignore_result=True)
def outbox_relay() -> dict[str, int]:
    """Every minute (Celery beat): hand to Celery the queued tasks whose kick after commit did not get through."""
    return jobs.relay_all(now=timezone.now())


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Every minute (Celery beat): a worker consumed a task just now; /health/ turns red when this stops."""
    services.heartbeat_record(name="celery", now=timezone.now())


@shared_task(ignore_result=True)
def sent_emails_purge() -> int:
    """Daily (Celery beat): forget the keys of e-mails sent more than core.emails.KEEP_SENT ago."""
    return emails.sent_emails_purge(now=timezone.now())
