"""The entity files of a batch, in the order they load (parents first): what each record holds and checks.

The specs' building blocks are in billing/sync/contract.py, the value parsers in billing/sync/parsers.py, and
the documents' children (invoice lines, payment allocations) in billing/sync/documents.py.
"""

from decimal import Decimal

from stdnum.pl import nip, pesel

from accounts.models import Contract, ContractKind, Customer, CustomerKind, DeliveryPoint, Service
from billing.models import (
    CustomerBalance,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentChannel,
    PaymentPlan,
    PaymentPlanStatus,
)
from billing.sync import documents, pdfs
from billing.sync.contract import Column, Entity, Ref, Row, SqlTwin
from billing.sync.parsers import (
    RecordError,
    a_date,
    a_datetime,
    checked,
    choice,
    decimal,
    money,
    optional,
    postal_code,
    text,
    validate_nrb,
)
from meters.models import Medium, Meter, MeterKind, Reading, ReadingSource

ADDRESS = [
    Column("address.street", "street", text(128)),
    Column("address.building", "building", text(16)),
    Column("address.apartment", "apartment", text(16, blank=True), required=False),
    Column("address.postal_code", "postal_code", postal_code),
    Column("address.city", "city", text(64)),
]


def _check_contract(row: Row) -> None:
    until = row.values["valid_until"]
    if until is not None and until < row.values["valid_from"]:
        raise RecordError("valid_until is before valid_from")


def _sql_contract() -> SqlTwin:
    return SqlTwin("(valid_until IS NULL OR valid_until >= valid_from)")


def instalment_schedule(value) -> list[dict]:
    """A payment plan's schedule: a non-empty list of {"due_date": "YYYY-MM-DD", "amount": "120.00"}, in date order."""
    if not isinstance(value, list) or not value or len(value) > 120:
        raise RecordError("schedule must be a list of 1 to 120 instalments")
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"due_date", "amount"}:
            raise RecordError("each instalment has exactly due_date and amount")
        due, amount = a_date(item["due_date"]), decimal(2, positive=True)(item["amount"])
        out.append({"due_date": due.isoformat(), "amount": f"{amount:.2f}"})
    if [item["due_date"] for item in out] != sorted(item["due_date"] for item in out):
        raise RecordError("instalments must be in due date order")
    return out


def _check_payment_plan(row: Row) -> None:
    total = sum(Decimal(item["amount"]) for item in row.values["schedule"])
    if total != row.values["total"]:
        raise RecordError(f"the instalments add up to {total}, not the total {row.values['total']}")


def _check_meter(row: Row) -> None:
    removed = row.values["removed_date"]
    if removed is not None and removed < row.values["installed_date"]:
        raise RecordError("removed_date is before installed_date")


def _sql_meter() -> SqlTwin:
    return SqlTwin("(removed_date IS NULL OR removed_date >= installed_date)")


ENTITIES: list[Entity] = [
    Entity(
        "customers",
        Customer,
        [
            Column("number", "number", text(32)),
            Column("kind", "kind", choice(CustomerKind)),
            Column("name", "name", text(200)),
            Column("nip", "nip", checked(nip.validate, "NIP"), required=False),
            Column("pesel", "pesel", checked(pesel.validate, "PESEL"), required=False),
            Column("email", "email", text(254, blank=True), required=False),
            Column("phone", "phone", text(32, blank=True), required=False),
            Column("bank_account", "bank_account", checked(validate_nrb, "bank account number (NRB)"), required=False),
            *ADDRESS,
        ],
    ),
    Entity(
        "contracts",
        Contract,
        [
            Column("number", "number", text(32)),
            Column("kind", "kind", choice(ContractKind)),
            Column("signed_date", "signed_date", a_date),
            Column("valid_from", "valid_from", a_date),
            Column("valid_until", "valid_until", optional(a_date), required=False),
        ],
        refs=[Ref("customer_id", "customer_id", Customer)],
        check=_check_contract,
        sql=_sql_contract,
    ),
    Entity(
        "delivery_points",
        DeliveryPoint,
        [
            Column("code", "code", text(32)),
            Column("service", "service", choice(Service)),
            Column("tariff_group", "tariff_group", text(32)),
            *ADDRESS,
        ],
        refs=[Ref("customer_id", "customer_id", Customer), Ref("contract_id", "contract_id", Contract)],
    ),
    Entity(
        "meters",
        Meter,
        [
            Column("serial_number", "serial_number", text(32)),
            Column("kind", "kind", choice(MeterKind)),
            Column("medium", "medium", choice(Medium)),
            Column("unit", "unit", text(8)),
            Column("installed_date", "installed_date", a_date),
            Column("removed_date", "removed_date", optional(a_date), required=False),
            Column("legalization_valid_until", "legalization_valid_until", a_date),
        ],
        refs=[Ref("delivery_point_id", "delivery_point_id", DeliveryPoint)],
        check=_check_meter,
        sql=_sql_meter,
    ),
    Entity(
        "readings",
        Reading,
        [
            Column("read_date", "read_date", a_date),
            Column("value", "value", decimal(3, minimum=Decimal(0))),
            Column("source", "source", choice(ReadingSource)),
            Column("portal_reference", "portal_reference", text(64, blank=True), required=False),
            Column("degree_days", "degree_days", optional(decimal(1, minimum=Decimal(0))), required=False),
        ],
        refs=[Ref("meter_id", "meter_id", Meter)],
    ),
    Entity(
        "invoices",
        Invoice,
        [
            Column("number", "number", text(40)),
            Column("kind", "kind", choice(InvoiceKind)),
            Column("issue_date", "issue_date", a_date),
            Column("due_date", "due_date", a_date),
            Column("period_start", "period_start", optional(a_date), required=False),
            Column("period_end", "period_end", optional(a_date), required=False),
            Column("net", "net", money),
            Column("vat", "vat", money),
            Column("gross", "gross", money),
            Column("outstanding", "outstanding", decimal(2, minimum=Decimal(0))),
            Column("ksef_number", "ksef_number", text(64, blank=True), required=False),
            Column("ksef_hash", "ksef_hash", text(64, blank=True), required=False),
            Column("ksef_context_type", "ksef_context_type", text(16, blank=True), required=False),
            Column("ksef_context_id", "ksef_context_id", text(64, blank=True), required=False),
            Column("ksef_certificate_serial", "ksef_certificate_serial", text(64, blank=True), required=False),
            Column("ksef_certificate_signature", "ksef_certificate_signature", text(1024, blank=True), required=False),
        ],
        refs=[
            Ref("customer_id", "customer_id", Customer),
            Ref("delivery_point_id", "delivery_point_id", DeliveryPoint, required=False),
            Ref("corrected_invoice_id", "corrected_invoice_id", Invoice, required=False),
        ],
        check=documents.check_invoice,
        before_write=pdfs.invoice_pdfs_store,
        after_write=documents.write_invoice_lines,
        sql=documents.sql_invoice,
    ),
    Entity(
        "payments",
        Payment,
        [
            Column("paid_date", "paid_date", a_date),
            Column("amount", "amount", decimal(2, positive=True)),
            Column("channel", "channel", choice(PaymentChannel)),
            Column("title", "title", text(200, blank=True), required=False),
            Column("portal_reference", "portal_reference", text(64, blank=True), required=False),
        ],
        refs=[Ref("customer_id", "customer_id", Customer)],
        check=documents.check_payment,
        check_refs=documents.check_allocation_refs,
        after_write=documents.write_allocations,
        sql=documents.sql_payment,
    ),
    Entity(
        "balances",
        CustomerBalance,
        [
            Column("balance", "balance", money),
            Column("overdue", "overdue", decimal(2, minimum=Decimal(0))),
            Column("as_of", "as_of", a_datetime),
        ],
        refs=[Ref("id", "customer_id", Customer)],
    ),
    # Optional: a billing system without payment plans sends no such file (nor offers the route).
    Entity(
        "payment_plans",
        PaymentPlan,
        [
            Column("status", "status", choice(PaymentPlanStatus)),
            Column("total", "total", decimal(2, positive=True)),
            Column("portal_reference", "portal_reference", text(32, blank=True), required=False),
            Column("schedule", "schedule", instalment_schedule),
        ],
        refs=[Ref("customer_id", "customer_id", Customer)],
        check=_check_payment_plan,
        optional=True,
    ),
]
ENTITY_BY_NAME = {entity.name: entity for entity in ENTITIES}
