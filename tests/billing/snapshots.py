"""A comparable picture of everything the billing sync writes, keyed by billing-system ids (not portal pks)."""

from accounts.models import Contract, Customer, DeliveryPoint
from billing.models import CustomerBalance, Invoice, InvoiceLine, Payment, PaymentAllocation
from meters.models import Meter, Reading

SYNCED_MODELS = (
    Customer,
    Contract,
    DeliveryPoint,
    Meter,
    Reading,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    CustomerBalance,
)


def _columns(model) -> list[str]:
    columns = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.is_relation and any(f.name == "external_id" for f in field.related_model._meta.fields):
            columns.append(f"{field.name}__external_id")
        else:
            columns.append(field.attname)
    return columns


def synced_state() -> dict[str, list[tuple]]:
    return {
        model.__name__: sorted(tuple(str(v) for v in row) for row in model.objects.values_list(*_columns(model)))
        for model in SYNCED_MODELS
    }


def synced_row_count() -> int:
    return sum(model.objects.count() for model in SYNCED_MODELS)
