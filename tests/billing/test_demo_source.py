"""The demo billing source: deterministic, and every record keeps docs/billing-sync.md. No database needed."""

import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum import iban
from stdnum.pl import nip, pesel

from demo.batch import ENTITIES, crc8, write_demo_batch

TODAY = date(2026, 11, 21)
MONEY = re.compile(r"^-?\d+\.\d{2}$")
VALUE = re.compile(r"^\d+(\.\d{1,3})?$")
STAMP_KEYS = ("changed_at",)


def read(folder: Path, name: str) -> list[dict]:
    with (folder / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("demo-batch")
    counts = write_demo_batch(folder, customers=400, seed=7, years=3, today=TODAY)
    data = {name: read(folder, name) for name in ENTITIES}
    data["manifest"] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data["counts"] = counts
    data["folder"] = folder
    return data


def d(value: str) -> Decimal:
    assert isinstance(value, str) and MONEY.match(value), value
    return Decimal(value)


# --- determinism and format ------------------------------------------------------------------------------


def test_two_runs_give_byte_identical_files(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_demo_batch(first, customers=60, seed=3, years=2, today=TODAY)
    write_demo_batch(second, customers=60, seed=3, years=2, today=TODAY)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert names == sorted([*(f"{name}.jsonl" for name in ENTITIES), "manifest.json"])
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_another_seed_or_day_gives_other_data(tmp_path):
    write_demo_batch(tmp_path / "a", customers=20, seed=1, years=1, today=TODAY)
    write_demo_batch(tmp_path / "b", customers=20, seed=2, years=1, today=TODAY)
    write_demo_batch(tmp_path / "c", customers=20, seed=1, years=1, today=TODAY - timedelta(days=1))
    a = (tmp_path / "a" / "customers.jsonl").read_bytes()
    assert a != (tmp_path / "b" / "customers.jsonl").read_bytes()
    assert (tmp_path / "a" / "invoices.jsonl").read_bytes() != (tmp_path / "c" / "invoices.jsonl").read_bytes()


def test_manifest_is_a_full_batch_of_contract_1(batch):
    manifest = batch["manifest"]
    assert manifest == {
        "contract_version": 1,
        "generated_at": "2026-11-21T05:00:00+00:00",
        "cursor": "2026-11-21T05:00:00+00:00",
        "full": True,
    }


def test_counts_are_the_rows_written(batch):
    assert batch["counts"] == {name: len(batch[name]) for name in ENTITIES}
    assert len(batch["customers"]) == len(batch["balances"]) == 400
    for name in ENTITIES:
        raw = (batch["folder"] / f"{name}.jsonl").read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw


def test_every_record_has_a_unique_id_and_a_changed_at_not_after_the_export(batch):
    generated_at = datetime.fromisoformat(batch["manifest"]["generated_at"])
    for name in ENTITIES:
        ids = [row["id"] for row in batch[name]]
        assert len(ids) == len(set(ids)), name
        for row in batch[name]:
            assert isinstance(row["id"], str) and 0 < len(row["id"]) <= 64
            changed_at = datetime.fromisoformat(row["changed_at"])
            assert changed_at.utcoffset() is not None
            assert changed_at <= generated_at, (name, row["id"])
            assert "deleted" not in row


def test_unique_business_numbers(batch):
    for name, key in (("customers", "number"), ("contracts", "number"), ("delivery_points", "code")):
        values = [row[key] for row in batch[name]]
        assert len(values) == len(set(values)), name
    numbers = [row["number"] for row in batch["invoices"]]
    assert len(numbers) == len(set(numbers))
    assert all(re.fullmatch(r"(FV|FK|NO)/20\d\d/\d\d/\d{6}", n) for n in numbers)
    assert all(re.fullmatch(r"\d{6,8}", row["number"]) for row in batch["customers"])


# --- references ------------------------------------------------------------------------------------------


def test_every_reference_resolves_to_the_same_customer(batch):
    customers = {row["id"] for row in batch["customers"]}
    contracts = {row["id"]: row["customer_id"] for row in batch["contracts"]}
    points = {row["id"]: row["customer_id"] for row in batch["delivery_points"]}
    meters = {row["id"]: points[row["delivery_point_id"]] for row in batch["meters"]}
    assert set(contracts.values()) <= customers
    for row in batch["delivery_points"]:
        assert contracts[row["contract_id"]] == row["customer_id"]
    assert all(row["meter_id"] in meters for row in batch["readings"])

    invoice_owner = {}
    for row in batch["invoices"]:
        assert row["customer_id"] in customers
        if row["delivery_point_id"] is not None:
            assert points[row["delivery_point_id"]] == row["customer_id"]
        if row["kind"] == "CORRECTION":
            # "loaded earlier or in the same file above it"
            assert invoice_owner[row["corrected_invoice_id"]] == row["customer_id"]
        else:
            assert "corrected_invoice_id" not in row
        invoice_owner[row["id"]] = row["customer_id"]
    for row in batch["payments"]:
        for allocation in row["allocations"]:
            assert invoice_owner[allocation["invoice_id"]] == row["customer_id"]
    assert {row["id"] for row in batch["balances"]} == customers


# --- money -----------------------------------------------------------------------------------------------


def test_invoices_add_up(batch):
    for row in batch["invoices"]:
        net, vat, gross = d(row["net"]), d(row["vat"]), d(row["gross"])
        assert gross == net + vat, row["number"]
        assert row["lines"], row["number"]
        assert [line["position"] for line in row["lines"]] == list(range(1, len(row["lines"]) + 1))
        for line in row["lines"]:
            assert d(line["gross"]) == d(line["net"]) + d(line["vat"])
            assert re.fullmatch(r"-?\d+(\.\d{1,3})?", line["quantity"])
            assert re.fullmatch(r"-?\d+(\.\d{1,4})?", line["unit_price_net"])
            assert line["vat_rate"] in {"23", "8", "5", "0", "zw"}
            if line["vat_rate"] == "8":
                assert d(line["vat"]) == (d(line["net"]) * Decimal("0.08")).quantize(Decimal("0.01"), "ROUND_HALF_UP")
                price = Decimal(line["unit_price_net"])
                expected = (Decimal(line["quantity"]) * price).quantize(Decimal("0.01"), "ROUND_HALF_UP")
                assert d(line["net"]) == expected
        for key in ("net", "vat", "gross"):
            assert sum(d(line[key]) for line in row["lines"]) == d(row[key]), (row["number"], key)
        if row["kind"] == "CORRECTION":
            assert gross < 0
        else:
            assert gross >= 0
        assert row["issue_date"] < row["due_date"]
        assert (date.fromisoformat(row["due_date"]) - date.fromisoformat(row["issue_date"])).days in (14, 21)
        assert row["issue_date"] < TODAY.isoformat()
        if "period_start" in row:
            assert row["period_start"] < row["period_end"] <= row["issue_date"]


def test_outstanding_is_gross_minus_allocations_and_never_negative(batch):
    allocated = defaultdict(Decimal)
    for row in batch["payments"]:
        amount = d(row["amount"])
        assert amount > 0
        shares = [d(a["amount"]) for a in row["allocations"]]
        assert all(share > 0 for share in shares)
        assert sum(shares) <= amount
        assert len({a["invoice_id"] for a in row["allocations"]}) == len(shares)
        for allocation in row["allocations"]:
            allocated[allocation["invoice_id"]] += d(allocation["amount"])
    for row in batch["invoices"]:
        outstanding = d(row["outstanding"])
        assert outstanding >= 0
        if row["kind"] == "CORRECTION":  # credited through an OFFSET payment, nothing to pay
            assert outstanding == 0 and allocated[row["id"]] == 0
        else:
            assert outstanding == d(row["gross"]) - allocated[row["id"]], row["number"]


def test_balances_follow_from_documents_and_payments(batch):
    outstanding, overdue, unallocated = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    for row in batch["invoices"]:
        outstanding[row["customer_id"]] += d(row["outstanding"])
        if row["due_date"] < TODAY.isoformat():
            overdue[row["customer_id"]] += d(row["outstanding"])
    for row in batch["payments"]:
        unallocated[row["customer_id"]] += d(row["amount"]) - sum(d(a["amount"]) for a in row["allocations"])
    for row in batch["balances"]:
        customer = row["id"]
        assert d(row["balance"]) == outstanding[customer] - unallocated[customer]
        assert d(row["overdue"]) == overdue[customer] >= 0
        assert row["as_of"] == batch["manifest"]["generated_at"]


def test_payments_look_like_a_real_ledger(batch):
    invoices = {row["id"]: row for row in batch["invoices"]}
    channels = Counter(row["channel"] for row in batch["payments"])
    assert {"TRANSFER", "ONLINE", "CASH", "OFFSET"} <= set(channels)
    assert channels.most_common(1)[0][0] == "TRANSFER"
    assert all(row["paid_date"] < TODAY.isoformat() for row in batch["payments"])
    late = [
        row
        for row in batch["payments"]
        for a in row["allocations"]
        if row["channel"] != "OFFSET" and row["paid_date"] > invoices[a["invoice_id"]]["due_date"]
    ]
    assert late
    documents = [row for row in batch["invoices"] if row["kind"] == "INVOICE"]
    recent = [row for row in documents if row["due_date"] >= (TODAY + timedelta(days=4)).isoformat()]
    assert recent and sum(d(r["outstanding"]) == d(r["gross"]) for r in recent) > len(recent) / 2
    older = [row for row in documents if row["due_date"] < (TODAY - timedelta(days=120)).isoformat()]
    assert sum(d(r["outstanding"]) == 0 for r in older) > 0.95 * len(older)
    partial = [r for r in documents if 0 < d(r["outstanding"]) < d(r["gross"])]
    assert partial
    overdue_docs = Counter(
        r["customer_id"] for r in documents if r["due_date"] < TODAY.isoformat() and d(r["outstanding"])
    )
    assert any(n >= 3 for n in overdue_docs.values()), "a few debtors owe several invoices"
    assert any(d(row["balance"]) < 0 for row in batch["balances"]), "some customers have an overpayment"


def test_corrections_and_interest_notes(batch):
    kinds = Counter(row["kind"] for row in batch["invoices"])
    assert kinds["CORRECTION"] >= 3
    assert kinds["INTEREST_NOTE"] >= 1
    assert kinds["INVOICE"] > 50 * (kinds["CORRECTION"] + kinds["INTEREST_NOTE"])
    offsets = {a["invoice_id"] for row in batch["payments"] if row["channel"] == "OFFSET" for a in row["allocations"]}
    for row in batch["invoices"]:
        if row["kind"] == "INTEREST_NOTE":
            assert row["delivery_point_id"] is None and "period_start" not in row
            assert all(line["vat_rate"] == "zw" and line["vat"] == "0.00" for line in row["lines"])
            assert d(row["vat"]) == 0 and d(row["gross"]) > 0
            assert "ksef_number" not in row
        elif row["kind"] == "INVOICE":
            assert row["delivery_point_id"] is not None
    assert offsets  # a correction's credit settles the corrected (or next) invoice
    notes = sorted(d(row["gross"]) for row in batch["invoices"] if row["kind"] == "INTEREST_NOTE")
    assert notes[len(notes) // 2] < 100  # small, except for a cooperative late with a six-figure bill


def test_ksef_numbers_since_february_2026(batch):
    offline = [row for row in batch["invoices"] if "ksef_certificate_serial" in row]
    assert 0 < len(offline) < 0.1 * len(batch["invoices"])
    for row in batch["invoices"]:
        if row["kind"] == "INTEREST_NOTE" or row["issue_date"] < "2026-02-01":
            assert "ksef_number" not in row and "ksef_hash" not in row
            continue
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", row["ksef_hash"])
        if "ksef_certificate_serial" in row:  # issued offline in the last month: no number yet, KOD II instead
            assert "ksef_number" not in row
            assert (TODAY - date.fromisoformat(row["issue_date"])).days < 31
            assert row["ksef_context_type"] == "Nip" and nip.is_valid(row["ksef_context_id"])
            assert re.fullmatch(r"[0-9A-F]{16}", row["ksef_certificate_serial"])
            assert re.fullmatch(r"[A-Za-z0-9_-]{342}", row["ksef_certificate_signature"])
            continue
        number = row["ksef_number"]
        match = re.fullmatch(r"(\d{10})-(\d{8})-([0-9A-F]{12})-([0-9A-F]{2})", number)
        assert match, number
        assert nip.is_valid(match[1])
        assert match[2] == row["issue_date"].replace("-", "")
        assert int(match[4], 16) == crc8(number[:32].encode())
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", row["ksef_hash"])


def test_water_and_heat_lines_and_prices(batch):
    descriptions = Counter(line["description"] for row in batch["invoices"] for line in row["lines"])
    for expected in ("Woda", "Ścieki", "Opłata abonamentowa", "Opłata za ciepło", "Opłata za moc zamówioną"):
        assert descriptions[expected] > 0
    assert descriptions["Opłata przesyłowa stała"] == descriptions["Opłata przesyłowa zmienna"] > 0
    for row in batch["invoices"]:
        if row["issue_date"] < "2024-01-01" or row["kind"] != "INVOICE":
            continue
        for line in row["lines"]:
            price = Decimal(line["unit_price_net"])
            if line["description"] == "Woda":
                assert Decimal("6") <= price <= Decimal("8.5")
            elif line["description"] == "Ścieki":
                assert Decimal("8") <= price <= Decimal("12.5")
            elif line["description"] == "Opłata za ciepło":
                assert Decimal("70") <= price <= Decimal("110")


# --- customers ------------------------------------------------------------------------------------------


def test_identifiers_have_valid_check_digits(batch):
    for row in batch["customers"]:
        if "nip" in row:
            assert nip.is_valid(row["nip"]), row["nip"]
        if "pesel" in row:
            assert pesel.is_valid(row["pesel"]), row["pesel"]
            assert row["kind"] == "PERSON"
        account = row["bank_account"]
        assert re.fullmatch(r"\d{26}", account)
        assert iban.is_valid("PL" + account), account
        assert re.fullmatch(r"\d{2}-\d{3}", row["address"]["postal_code"])
        assert row["address"]["street"] and row["address"]["building"] and row["address"]["city"]
        assert row["kind"] in {"PERSON", "COMPANY", "HOUSING_COMMUNITY"}
        if row["kind"] != "PERSON":
            assert "nip" in row
    accounts = [row["bank_account"] for row in batch["customers"]]
    assert len(set(accounts)) == len(accounts)


def test_customer_mix(batch):
    kinds = Counter(row["kind"] for row in batch["customers"])
    assert 0.78 <= kinds["PERSON"] / 400 <= 0.92
    assert kinds["COMPANY"] >= 15 and kinds["HOUSING_COMMUNITY"] >= 12
    persons = [row for row in batch["customers"] if row["kind"] == "PERSON"]
    with_pesel = sum("pesel" in row for row in persons)
    assert 0.35 <= with_pesel / len(persons) <= 0.65
    points = Counter(row["customer_id"] for row in batch["delivery_points"])
    communities = [row["id"] for row in batch["customers"] if row["kind"] == "HOUSING_COMMUNITY"]
    assert all(points[c] >= 5 for c in communities)
    assert max(points[c] for c in communities) >= 15
    services = Counter(row["service"] for row in batch["contracts"] for row in [{"service": row["kind"]}])
    heat = services["HEAT"]
    assert 0.2 <= heat / len(batch["contracts"]) <= 0.4


def test_contracts_some_fixed_term_some_ending_soon(batch):
    contracts = batch["contracts"]
    fixed = [row for row in contracts if row["valid_until"] is not None]
    assert 0.08 <= len(fixed) / len(contracts) <= 0.22
    soon = (TODAY + timedelta(days=60)).isoformat()
    assert any(TODAY.isoformat() <= row["valid_until"] <= soon for row in fixed)
    for row in contracts:
        assert row["signed_date"] <= row["valid_from"]
        assert row["valid_until"] is None or row["valid_until"] >= row["valid_from"]
    assert {row["kind"] for row in contracts} >= {"WATER_SEWAGE", "WATER", "HEAT"}


# --- meters and readings ---------------------------------------------------------------------------------


def test_meters_legalization_and_replacements(batch):
    meters = batch["meters"]
    points = {row["id"]: row for row in batch["delivery_points"]}
    for row in meters:
        service = points[row["delivery_point_id"]]["service"]
        if service == "WATER":
            assert (row["medium"], row["unit"]) == ("COLD_WATER", "m3")
        else:
            assert (row["medium"], row["unit"], row["kind"]) == ("HEAT", "GJ", "MAIN")
        installed = date.fromisoformat(row["installed_date"])
        assert row["legalization_valid_until"] == installed.replace(year=installed.year + 5).isoformat()
        assert row["removed_date"] is None or row["removed_date"] >= row["installed_date"]
    active = [row for row in meters if row["removed_date"] is None]
    soon = (TODAY + timedelta(days=60)).isoformat()
    expiring = [row for row in active if TODAY.isoformat() <= row["legalization_valid_until"] <= soon]
    expired = [row for row in active if row["legalization_valid_until"] < TODAY.isoformat()]
    assert 0.02 <= len(expiring) / len(active) <= 0.09
    assert expired
    assert any(row["kind"] == "SUB" for row in meters)
    installed_on = {(row["delivery_point_id"], row["kind"], row["installed_date"]) for row in meters}
    removed = [row for row in meters if row["removed_date"] is not None]
    assert removed
    for row in removed:  # a replacement: the successor is installed the same day
        assert (row["delivery_point_id"], row["kind"], row["removed_date"]) in installed_on


def test_readings_are_cumulative_and_within_the_meter_life(batch):
    meters = {row["id"]: row for row in batch["meters"]}
    by_meter = defaultdict(list)
    for row in batch["readings"]:
        assert VALUE.match(row["value"]), row["value"]
        assert row["source"] in {"COLLECTOR", "SELF", "REMOTE", "ESTIMATE"}
        by_meter[row["meter_id"]].append(row)
    start = date(TODAY.year - 3, TODAY.month, 1) - timedelta(days=10)
    for meter_id, readings in by_meter.items():
        meter = meters[meter_id]
        dates = [row["read_date"] for row in readings]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        values = [Decimal(row["value"]) for row in readings]
        assert values == sorted(values), meter_id
        assert dates[0] >= max(meter["installed_date"], start.isoformat())
        assert dates[-1] <= (meter["removed_date"] or TODAY.isoformat())
        if meter["removed_date"]:
            assert dates[-1] == meter["removed_date"]
        if dates[0] == meter["installed_date"]:
            assert values[0] < Decimal("0.1"), "a new meter starts near zero"
    sources = Counter(row["source"] for row in batch["readings"])
    assert sources.most_common(1)[0][0] == "COLLECTOR"
    assert sources["SELF"] and sources["REMOTE"] and sources["ESTIMATE"]


def test_consumption_is_plausible(batch):
    points = {row["id"]: row for row in batch["delivery_points"]}
    customers = {row["id"]: row for row in batch["customers"]}
    heat_by_month = defaultdict(Decimal)
    household_water = []
    for row in batch["invoices"]:
        if row["kind"] != "INVOICE":
            continue
        point = points[row["delivery_point_id"]]
        first = row["lines"][0]
        if first["description"] == "Opłata za ciepło":
            heat_by_month[row["period_start"][5:7]] += Decimal(first["quantity"])
        elif first["description"] == "Woda" and customers[row["customer_id"]]["kind"] == "PERSON":
            if point["address"]["building"].startswith("dz."):
                continue
            days = (date.fromisoformat(row["period_end"]) - date.fromisoformat(row["period_start"])).days
            household_water.append(Decimal(first["quantity"]) / days * 30)
    assert heat_by_month["01"] > 5 * heat_by_month["07"]  # hot water all year in blocks of flats
    household_water.sort()
    median = household_water[len(household_water) // 2]
    assert Decimal(4) <= median <= Decimal(14)  # a household of 1-6 people using 2.5-4 m3 each a month


def test_some_debtors_have_a_payment_plan_adding_up_to_its_total(batch):
    plans = batch["payment_plans"]
    customers = {c["id"] for c in batch["customers"]}

    assert plans
    for plan in plans:
        assert plan["customer_id"] in customers
        assert sum(d(item["amount"]) for item in plan["schedule"]) == d(plan["total"])
