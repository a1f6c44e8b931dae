"""Billing background work. Tasks load rows by id and call one service."""

from celery import shared_task
from django.utils import timezone

from accounts.models import Customer
from billing.sync import runner
from billing.sync.lock import SyncBusy


@shared_task(acks_late=True, ignore_result=True)
def billing_sync() -> None:
    """The hourly sync (Celery beat). A second one while the first runs just returns."""
    try:
        runner.sync_run(source=runner.source_from_settings(), clock=timezone.now)
    except SyncBusy:
        return  # the sync holding the lock has logged who it is


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=20, default_retry_delay=30)
def customer_sync(self, *, customer_id: int) -> None:
    """One customer's data, now (after activation, from the admin or the refresh button)."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return
    try:
        runner.sync_run(source=runner.source_from_settings(), clock=timezone.now, customer=customer)
    except SyncBusy as exc:
        raise self.retry(exc=exc) from exc


@shared_task(ignore_result=True)
def sync_watchdog() -> None:
    runner.sync_alarm_check(now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def invoice_pdf_render(*, invoice_id: int) -> None:
    """Render and store an invoice's PDF ahead of its first download (e-invoice e-mails attach it); idempotent."""
    from billing import services
    from billing.models import Invoice

    invoice = Invoice.objects.filter(pk=invoice_id).select_related("customer", "delivery_point").first()
    if invoice is not None:
        services.invoice_pdf_ensure(invoice=invoice)


@shared_task(ignore_result=True)
def tax_records_purge() -> None:
    """Daily: invoices and payments of deleted accounts whose five years under tax law are over."""
    from billing import services

    services.tax_records_purge(today=timezone.localdate())
