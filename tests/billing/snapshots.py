"""A comparable picture of everything the billing sync writes, keyed by billing-system ids (not portal pks)."""

import hashlib
import json
from pathlib import Path

from django.core.files.storage import default_storage

from accounts.models import Contract, Customer, DeliveryPoint
from billing.models import CustomerBalance, Invoice, InvoiceLine, Payment, PaymentAllocation, PaymentPlan
from billing.sync import pdfs
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
    PaymentPlan,
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


def synced_checksums() -> dict[str, tuple[int, str]]:
    """Per synced table: its row count and a SHA-256 of its rows as synced_state() reads them."""
    return {name: (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()) for name, rows in synced_state().items()}


def stored_pdfs() -> dict[str, str]:
    """The billing system's PDFs in storage: {name: SHA-256 of the content}."""
    try:
        _, files = default_storage.listdir(pdfs.FOLDER)
    except FileNotFoundError:
        return {}
    stored = {}
    for file in files:
        with default_storage.open(f"{pdfs.FOLDER}/{file}", "rb") as handle:
            stored[f"{pdfs.FOLDER}/{file}"] = hashlib.sha256(handle.read()).hexdigest()
    return stored


def add_invoice_pdfs(batch: Path, *, every: int = 1) -> int:
    """Give every `every`-th invoice of the batch a PDF file of its own (the contract's `pdf`); returns how many."""
    path = batch / "invoices.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    (batch / "pdf").mkdir(exist_ok=True)
    added = 0
    for index, record in enumerate(records):
        if index % every == 0:
            record["pdf"] = f"pdf/{record['id']}.pdf"
            content = f"%PDF-1.4\n% invoice {record['number']}\n".encode() + bytes(range(256)) * 8
            (batch / record["pdf"]).write_bytes(content)
            added += 1
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return added
