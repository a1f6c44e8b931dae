"""Background work for cases: the e-mail that tells a customer the office replied."""

from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from tickets import services


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_kwargs={"max_retries": 8},
)
def case_reply_email_send(*, message_id: int) -> bool:
    """Safe to run twice: the service claims the message before sending."""
    return services.case_reply_email_send(message_id=message_id, now=timezone.now())
