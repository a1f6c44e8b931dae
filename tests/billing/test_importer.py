"""The billing importer against real PostgreSQL, on small hand-written batches."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Contract, Customer, DeliveryPoint
from billing import services
from billing.models import CustomerBalance, Invoice, InvoiceLine, Payment, PaymentAllocation, SyncStatus
from billing.sync.contract import BatchRefused
from meters.models import Meter, Reading

pytestmark = pytest.mark.django_db

T1 = "2026-11-01T10:00:00+01:00"
T2 = "2026-11-02T10:00:00+01:00"
ADDRESS = {"street": "ul. Słowackiego", "building": "12", "apartment": "4", "postal_code": "37-700", "city": "Przemyśl"}


def customer(id="C1", number="100001", changed_at=T1, **extra):
    return {
        "id": id,
        "changed_at": changed_at,
        "number": number,
        "kind": "PERSON",
        "name": "Jan Kowalski",
        "nip": "",
        "pesel": "44051401458",
        "email": "jan.kowalski@example.pl",
        "bank_account": "61109010140000071219812874",
        "address": ADDRESS,
        **extra,
    }


def invoice(id="F1", number="FV/2026/10/000001", changed_at=T1, **extra):
    record = {
        "id": id,
        "changed_at": changed_at,
        "customer_id": "C1",
        "delivery_point_id": "DP1",
        "number": number,
        "kind": "INVOICE",
        "issue_date": "2026-10-02",
        "due_date": "2026-10-16",
        "period_start": "2026-08-01",
        "period_end": "2026-10-01",
        "net": "100.00",
        "vat": "8.00",
        "gross": "108.00",
        "outstanding": "108.00",
        "ksef_number": "",
        "lines": [
            {
                "position": 1,
                "description": "Woda",
                "quantity": "10.000",
                "unit": "m3",
                "unit_price_net": "6.0000",
                "net": "60.00",
                "vat_rate": "8",
                "vat": "4.80",
                "gross": "64.80",
            },
            {
                "position": 2,
                "description": "Ścieki",
                "quantity": "10.000",
                "unit": "m3",
                "unit_price_net": "4.0000",
                "net": "40.00",
                "vat_rate": "8",
                "vat": "3.20",
                "gross": "43.20",
            },
        ],
    }
    record.update(extra)
    return record


def base_batch() -> dict[str, list[dict]]:
    return {
        "customers": [customer()],
        "contracts": [
            {
                "id": "K1",
                "changed_at": T1,
                "customer_id": "C1",
                "number": "UM/W/2019/0001",
                "kind": "WATER_SEWAGE",
                "signed_date": "2019-03-01",
                "valid_from": "2019-03-01",
                "valid_until": None,
            }
        ],
        "delivery_points": [
            {
                "id": "DP1",
                "changed_at": T1,
                "customer_id": "C1",
                "contract_id": "K1",
                "code": "PO-000001",
                "service": "WATER",
                "tariff_group": "W1",
                "address": ADDRESS,
            }
        ],
        "meters": [
            {
                "id": "M1",
                "changed_at": T1,
                "delivery_point_id": "DP1",
                "serial_number": "WM12345678",
                "kind": "MAIN",
                "medium": "COLD_WATER",
                "unit": "m3",
                "installed_date": "2022-01-10",
                "removed_date": None,
                "legalization_valid_until": "2027-01-10",
            }
        ],
        "readings": [
            {
                "id": "R1",
                "changed_at": T1,
                "meter_id": "M1",
                "read_date": "2026-08-01",
                "value": "120.500",
                "source": "COLLECTOR",
            },
            {
                "id": "R2",
                "changed_at": T1,
                "meter_id": "M1",
                "read_date": "2026-10-01",
                "value": "130.500",
                "source": "SELF",
            },
        ],
        "invoices": [invoice()],
        "payments": [
            {
                "id": "P1",
                "changed_at": T1,
                "customer_id": "C1",
                "paid_date": "2026-10-10",
                "amount": "50.00",
                "channel": "TRANSFER",
                "title": "FV/2026/10/000001",
                "allocations": [{"invoice_id": "F1", "amount": "50.00"}],
            }
        ],
        "balances": [{"id": "C1", "changed_at": T1, "balance": "58.00", "overdue": "58.00", "as_of": T1}],
    }


def write_batch(folder: Path, entities: dict[str, list], *, raw_lines: dict[str, list[str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"contract_version": 1, "generated_at": T2, "cursor": T2, "full": True}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for name, records in entities.items():
        lines = [json.dumps(record, ensure_ascii=False) for record in records]
        lines += (raw_lines or {}).get(name, [])
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def load(folder: Path):
    return services.batch_import(folder=folder, clock=timezone.now)


def snapshot() -> dict[str, list]:
    return {
        model.__name__: sorted(
            tuple(str(v) for v in row)
            for row in model.objects.values_list(*[f.attname for f in model._meta.concrete_fields if f.attname != "id"])
        )
        for model in (Customer, Contract, DeliveryPoint, Meter, Reading, Invoice, InvoiceLine, Payment, CustomerBalance)
    } | {
        "PaymentAllocation": sorted(
            PaymentAllocation.objects.values_list("payment__external_id", "invoice__external_id", "amount")
        )
    }


def test_a_batch_loads_every_entity_with_its_references(tmp_path):
    run = load(write_batch(tmp_path / "b1", base_batch()))

    assert run.status == SyncStatus.SUCCEEDED
    invoice = Invoice.objects.get(external_id="F1")
    assert invoice.customer.number == "100001"
    assert invoice.delivery_point.code == "PO-000001"
    assert invoice.gross == Decimal("108.00")
    assert list(invoice.lines.order_by("position").values_list("description", flat=True)) == ["Woda", "Ścieki"]
    assert PaymentAllocation.objects.get().invoice == invoice
    assert CustomerBalance.objects.get().customer.number == "100001"
    assert Reading.objects.filter(meter__serial_number="WM12345678").count() == 2
    assert run.counts["invoices"]["created"] == 1
    assert run.cursor_to == T2


def test_loading_the_same_batch_twice_changes_nothing(tmp_path):
    folder = write_batch(tmp_path / "b1", base_batch())
    load(folder)
    before = snapshot()

    again = load(folder)

    assert snapshot() == before
    assert again.total("created") == 0
    assert again.total("updated") == 0
    assert again.counts["invoices"]["unchanged"] == 1


def test_a_newer_change_updates_and_replaces_invoice_lines(tmp_path):
    load(write_batch(tmp_path / "b1", base_batch()))
    changed = invoice(changed_at=T2, outstanding="0.00")
    changed["lines"] = changed["lines"][:1] + [dict(changed["lines"][1], position=3)]

    run = load(write_batch(tmp_path / "b2", {"invoices": [changed]}))

    assert run.counts["invoices"]["updated"] == 1
    assert Invoice.objects.get(external_id="F1").outstanding == 0
    assert list(InvoiceLine.objects.order_by("position").values_list("position", flat=True)) == [1, 3]


def test_an_older_change_does_not_overwrite_a_newer_one(tmp_path):
    load(write_batch(tmp_path / "b1", {"customers": [customer(changed_at=T2, name="Anna Nowak")]}))

    run = load(write_batch(tmp_path / "b2", {"customers": [customer(changed_at=T1, name="Jan Kowalski")]}))

    assert Customer.objects.get().name == "Anna Nowak"
    assert run.counts["customers"]["unchanged"] == 1


def test_a_deletion_removes_the_row_and_what_hangs_from_it(tmp_path):
    load(write_batch(tmp_path / "b1", base_batch()))

    run = load(write_batch(tmp_path / "b2", {"meters": [{"id": "M1", "changed_at": T2, "deleted": True}]}))

    assert run.counts["meters"]["deleted"] == 1
    assert not Meter.objects.exists()
    assert not Reading.objects.exists()
    assert DeliveryPoint.objects.exists()


def test_malformed_records_are_reported_with_their_line_and_the_good_ones_load(tmp_path):
    batch = base_batch()
    batch["customers"] = [
        customer(),
        customer(id="C2", number="100002", pesel="12345678901"),  # line 2: bad PESEL checksum
        customer(id="C3", number="100003"),
    ]
    batch["invoices"] = [invoice(), invoice(id="F2", number="FV/2026/10/000002", gross="999.00")]  # line 2
    folder = write_batch(tmp_path / "b1", batch, raw_lines={"customers": ["{not json"]})  # line 4

    run = load(folder)

    assert run.status == SyncStatus.SUCCEEDED_WITH_REJECTS
    assert set(Customer.objects.values_list("number", flat=True)) == {"100001", "100003"}
    rejected = {(e["file"], e["line"]) for e in run.errors}
    assert rejected == {("customers.jsonl", 2), ("customers.jsonl", 4), ("invoices.jsonl", 2)}
    assert "PESEL" in next(e["error"] for e in run.errors if e["line"] == 2 and e["file"] == "customers.jsonl")
    assert Invoice.objects.count() == 1


def test_a_record_pointing_at_an_unknown_parent_is_rejected(tmp_path):
    batch = base_batch()
    batch["invoices"].append(invoice(id="F9", number="FV/9", customer_id="C404"))

    run = load(write_batch(tmp_path / "b1", batch))

    assert run.errors == [{"file": "invoices.jsonl", "line": 2, "id": "F9", "error": "customer_id: unknown id C404"}]


def test_a_duplicate_number_is_rejected_by_the_database_without_losing_the_rest(tmp_path):
    batch = base_batch()
    batch["customers"] = [customer(), customer(id="C2", number="100001"), customer(id="C3", number="100003")]

    run = load(write_batch(tmp_path / "b1", batch))

    assert set(Customer.objects.values_list("external_id", flat=True)) == {"C1", "C3"}
    assert [(e["line"], e["id"]) for e in run.errors] == [(2, "C2")]
    assert "refused by the database" in run.errors[0]["error"]


def test_a_correction_may_follow_its_invoice_in_the_same_file(tmp_path):
    batch = base_batch()
    batch["invoices"].append(
        invoice(
            id="F2",
            number="FK/2026/10/000001",
            kind="CORRECTION",
            corrected_invoice_id="F1",
            net="-10.00",
            vat="-0.80",
            gross="-10.80",
            outstanding="0.00",
            lines=[],
        )
    )

    load(write_batch(tmp_path / "b1", batch))

    assert Invoice.objects.get(external_id="F2").corrected_invoice.external_id == "F1"


def test_a_batch_of_another_contract_version_is_refused_whole(tmp_path):
    folder = write_batch(tmp_path / "b1", base_batch())
    (folder / "manifest.json").write_text(json.dumps({"contract_version": 2, "cursor": T2}))

    with pytest.raises(BatchRefused, match="contract version 2"):
        load(folder)

    assert not Customer.objects.exists()


def test_new_invoices_are_announced_once_after_commit(tmp_path, django_capture_on_commit_callbacks):
    from billing.signals import invoices_imported

    announced = []

    def receiver(sender, invoice_ids, **kwargs):
        announced.append(sorted(invoice_ids))

    invoices_imported.connect(receiver)
    try:
        folder = write_batch(tmp_path / "b1", base_batch())
        with django_capture_on_commit_callbacks(execute=True):
            load(folder)
        with django_capture_on_commit_callbacks(execute=True):
            load(folder)
    finally:
        invoices_imported.disconnect(receiver)

    assert announced == [[Invoice.objects.get().pk]]


def test_loading_the_demo_data_set_twice_leaves_identical_rows_and_values(tmp_path):
    from datetime import date

    from demo import batch as demo
    from tests.billing.snapshots import synced_row_count, synced_state

    folder = tmp_path / "demo"
    demo.write_demo_batch(folder, customers=30, seed=3, years=2, today=date(2026, 11, 21))
    first = load(folder)
    rows, state = synced_row_count(), synced_state()

    second = load(folder)

    assert first.total("rejected") == 0
    assert rows > 5000
    assert (synced_row_count(), synced_state()) == (rows, state)
    assert second.total("created") + second.total("updated") + second.total("deleted") == 0
