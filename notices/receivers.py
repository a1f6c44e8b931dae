"""What notices does when other apps say something happened."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from billing.models import Invoice
from core.db import pk_in
from core.jobs import enqueue
from notices import selectors


def new_invoices_notify(sender, *, invoice_ids: list[int], **kwargs) -> None:
    """billing.signals.invoices_imported (in the import's transaction): queue "new invoice" for the recently issued
    ones only, so that a first import of years of history queues nothing."""
    since = timezone.localdate() - timedelta(days=settings.IBOK_NOTIFY_NEW_INVOICE_MAX_AGE_DAYS)
    recent = list(Invoice.objects.filter(pk_in(invoice_ids), issue_date__gte=since).values_list("pk", flat=True))
    if recent:
        enqueue("notices.new_invoices_notify", invoice_ids=recent)


def announcements_changed(sender, **kwargs) -> None:
    """An announcement or its area was saved or deleted (the admin, a shell): drop the list cached for everyone."""
    selectors.announcements_changed()


def account_erasing(sender, *, user, customer_ids: list[int], now, **kwargs) -> None:
    """accounts.signals.account_erasing: the account goes, and with it what was sent to it (addresses and texts),
    its phone verifications and its notification settings."""
    from notices.models import Notification, NotificationPreference, PhoneVerification

    Notification.objects.filter(user=user).delete()
    PhoneVerification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
