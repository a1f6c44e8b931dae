"""What billing does when other parts of the portal say something happened."""

from django.core.cache import cache
from django.utils import timezone

from accounts.models import Customer
from billing import services, versions
from billing.selectors import LAST_SYNC_CACHE_KEY


def customers_refresh_after_activation(sender, *, user, customer_ids: list[int], **kwargs) -> None:
    """A newly activated customer sees fresh data at once: sync each of their customers now."""
    for customer in Customer.objects.filter(pk__in=customer_ids):
        services.customer_sync_request(customer=customer, now=timezone.now(), throttle_seconds=0)


def sync_run_changed(sender, **kwargs) -> None:
    """A sync run was saved or deleted: the cached last successful one may be another now."""
    cache.delete(LAST_SYNC_CACHE_KEY)


def synced_row_changed(sender, instance, **kwargs) -> None:
    """post_save of a synced model (the admin, a shell): bump its customer's data version."""
    versions.rows_changed(sender, [instance.pk])


def account_deletion_blockers(sender, *, user, customer_ids: list[int], **kwargs) -> list[str]:
    """An account is deleted at once only when none of its customers owes anything (or has an unknown balance)."""
    from billing import services

    return services.account_debts(customer_ids=customer_ids)


def account_erasing(sender, *, user, customer_ids: list[int], now, **kwargs) -> None:
    """The account goes: its calendar address stops working; what tax law keeps is marked with its purge date."""
    from billing import services

    services.calendar_feed_revoke(user=user)
    services.tax_records_mark(customer_ids=customer_ids)
