"""What a write to synced rows changes beyond the rows: the customers' data versions (core.versions) and, for
booked payments, the "payment in progress" state of the invoices they settle. Called once per sync chunk and
deletion, in its transaction."""

from collections.abc import Iterable

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import Contract, Customer, DeliveryPoint
from billing.models import CustomerBalance, Invoice, InvoiceLine, OnlinePaymentItem, Payment, PaymentAllocation
from core import db, versions
from meters.models import Meter, Reading

# How a row reaches its customer; every other synced model has a customer_id column.
_CUSTOMER_OF = {
    Customer: "pk",
    Meter: "delivery_point__customer_id",
    Reading: "meter__delivery_point__customer_id",
    InvoiceLine: "invoice__customer_id",
    PaymentAllocation: "payment__customer_id",
}
# Saved one at a time by the admin (billing.receivers.synced_row_changed).
SYNCED_MODELS = (Customer, Contract, DeliveryPoint, Meter, Reading, Invoice, Payment, CustomerBalance)


def rows_changed(model: type[Model], ids: Iterable[int] | QuerySet = (), *, select: str = "") -> None:
    """These rows of `model` (ids, a queryset of ids, or an SQL select of ids) were written: bump their customers'
    versions, and a booked payment ends "payment in progress". Call it in the write's transaction, before a
    deletion."""
    if select:
        rows = Q(pk__in=RawSQL(select, ()))
    elif isinstance(ids, QuerySet):
        rows = Q(pk__in=ids)
    elif ids := sorted(ids):
        rows = db.pk_in(ids)
    else:
        return
    customers = model._default_manager.filter(rows).values_list(_CUSTOMER_OF.get(model, "customer_id"))
    versions.bump_select(*customers.query.sql_with_params())
    if model is Payment:
        references = Payment.objects.filter(rows).exclude(portal_reference="").values("portal_reference")
        settled = OnlinePaymentItem.objects.filter(online_payment__reference__in=references).values("invoice_id")
        Invoice.objects.filter(pk__in=settled, payment_in_progress=True).update(payment_in_progress=in_progress())


def in_progress() -> Exists:
    """An online payment the broker confirmed for the invoice, not yet booked by the billing system. The blank-
    excluding condition lets PostgreSQL use the partial index billing_payment_portal_ref_idx."""
    booked = Payment.objects.filter(portal_reference=OuterRef("online_payment__reference")).exclude(portal_reference="")
    return Exists(
        OnlinePaymentItem.objects.filter(invoice=OuterRef("pk"), online_payment__paid_at__isnull=False).exclude(
            Exists(booked)
        )
    )
