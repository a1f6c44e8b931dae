"""Background work for notifications: the daily reminders, new invoices, announcement pushes, sending."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notices import inbound, services, sms
from notices.models import Announcement

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def reminders_run() -> int:
    """Daily at IBOK_NOTIFY_HOUR (Celery beat): e-monit, contract end, legalization; safe to run twice."""
    return len(services.reminders_plan(now=timezone.now()))


@shared_task(ignore_result=True)
def new_invoices_notify(*, invoice_ids: list[int]) -> int:
    return len(services.new_invoices_notify(invoice_ids=invoice_ids, now=timezone.now()))


@shared_task(ignore_result=True)
def announcement_push(*, announcement_id: int) -> int:
    announcement = Announcement.objects.filter(pk=announcement_id).first()
    if announcement is None:
        return 0
    ids = services.announcement_push(announcement=announcement, now=timezone.now())
    services.notifications_enqueue(notification_ids=ids)
    return len(ids)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def notification_send(self, *, notification_id: int) -> str:
    """Safe to run twice: the service claims the row before sending. Retries with the service's backoff;
    the service decides when to give up (IBOK_NOTIFY_MAX_ATTEMPTS)."""
    outcome = services.notification_send(notification_id=notification_id, now=timezone.now())
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(ignore_result=True)
def notifications_resume() -> int:
    """Every few minutes (Celery beat): send what a lost task left PENDING; fail claims of dead workers."""
    ids = services.notifications_resume(now=timezone.now())
    services.notifications_enqueue(notification_ids=ids)
    return len(ids)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def inbound_sms_reply(self, *, inbound_sms_id: int) -> bool:
    """The SMS answer to a reading by SMS. Safe to run twice (the service skips a replied row); a gateway that
    did not take it is tried again with backoff, up to IBOK_NOTIFY_MAX_ATTEMPTS times."""
    try:
        return inbound.inbound_sms_reply(inbound_sms_id=inbound_sms_id, now=timezone.now())
    except inbound.ReplyFailed:
        if self.request.is_eager or self.request.retries + 1 >= settings.IBOK_NOTIFY_MAX_ATTEMPTS:
            raise
        raise self.retry(countdown=settings.IBOK_NOTIFY_RETRY_SECONDS * 2**self.request.retries) from None


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(sms.SmsSendFailed,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_kwargs={"max_retries": 8},
)
def sms_send(self, *, phone: str, text: str, reference: str) -> None:
    """One SMS composed by another app (a public report's tracking link, the office's reply to it). The gateway
    takes `reference` once, so a retried send does not reach the phone twice; a refused number is dropped."""
    try:
        sms.send(phone=phone, text=text, reference=reference)
    except sms.SmsRejected:
        logger.warning("SMS %s refused by the gateway", reference)
