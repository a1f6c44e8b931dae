"""Billing reads, always scoped to what the acting user may see."""

from decimal import Decimal

from django.db.models import QuerySet, Sum

from accounts.models import Customer, User
from accounts.selectors import visible_customers
from billing.models import Invoice, InvoiceKind, Payment, SyncRun, SyncStatus


def customers_with_balance(*, user: User) -> QuerySet[Customer]:
    return visible_customers(user=user).select_related("balance").order_by("number", "id")


def invoices_to_pay(*, user: User, limit: int = 5) -> QuerySet[Invoice]:
    """Unpaid documents, the earliest due first."""
    return (
        Invoice.objects.filter(customer__in=visible_customers(user=user), outstanding__gt=0)
        .select_related("customer")
        .order_by("due_date", "id")[:limit]
    )


def recent_payments(*, user: User, limit: int = 5) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(customer__in=visible_customers(user=user))
        .select_related("customer")
        .order_by("-paid_date", "-id")[:limit]
    )


def overdue_total(*, user: User):
    return Invoice.objects.filter(customer__in=visible_customers(user=user), outstanding__gt=0).aggregate(
        total=Sum("outstanding")
    )["total"]


def last_successful_sync() -> SyncRun | None:
    return (
        SyncRun.objects.filter(status__in=[SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED_WITH_REJECTS])
        .order_by("-finished_at", "-id")
        .first()
    )


def last_invoice_matches(
    *, customer: Customer | None, invoice_number: str | None = None, amount: Decimal | None = None
) -> bool:
    """Registration proof (accounts.proofs): the number or the gross amount of the customer's latest invoice.

    Runs its one query even for customer=None, so an unknown customer number costs the same time.
    """
    latest = (
        Invoice.objects.filter(customer_id=customer.pk if customer else None, kind=InvoiceKind.INVOICE)
        .order_by("-issue_date", "-id")
        .values("number", "gross")
        .first()
    )
    if latest is None:
        return False
    if invoice_number is not None and "".join(invoice_number.split()).upper() == latest["number"].upper():
        return True
    return amount is not None and amount == latest["gross"]
