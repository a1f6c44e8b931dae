"""Background work of e-invoices: confirmation links, invoice e-mails with retries, and the sweeps."""

from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from einvoice import services

RETRY = {"autoretry_for": (SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 900, "max_retries": 8}


@shared_task(**RETRY)
def verification_email_send(*, verification_id: int, base_url: str) -> None:
    services.verification_email_deliver(verification_id=verification_id, base_url=base_url, now=timezone.now())


@shared_task(bind=True, ignore_result=True)
def invoice_email_send(self, *, delivery_id: int) -> None:
    """One invoice e-mailed with its PDF. The attempts are counted on the row, so retries survive a lost message."""
    try:
        services.invoice_email_deliver(delivery_id=delivery_id, now=timezone.now())
    except services.DeliveryRetry as exc:
        raise self.retry(countdown=exc.countdown, max_retries=None) from exc


@shared_task(ignore_result=True)
def deliveries_for_invoices(*, invoice_ids: list[int]) -> None:
    """New invoices from a sync chunk: a delivery for each one of an e-invoice customer, then its send task."""
    from django.db import transaction

    with transaction.atomic():
        services.deliveries_enqueue(
            delivery_ids=services.deliveries_create(invoice_ids=invoice_ids, now=timezone.now())
        )


@shared_task(acks_late=True, ignore_result=True)
def deliveries_prepare(*, delivery_ids: list[int]) -> None:
    """A chunk of new deliveries: their invoices' PDFs rendered ahead (bulk queue), then their send tasks."""
    services.deliveries_prepare(delivery_ids=delivery_ids)


@shared_task(ignore_result=True)
def einvoice_sweep() -> dict[str, int]:
    """Every few minutes (Celery beat): registrations whose signal was lost, invoices without a delivery."""
    now = timezone.now()
    return {"registrations": services.registrations_sweep(now=now), **services.deliveries_sweep(now=now)}
