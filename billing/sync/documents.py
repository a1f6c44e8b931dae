"""The documents' children: an invoice's lines and a payment's allocations, checked, written, and in SQL.

Each check takes a parsed row (billing/sync/contract.py) and raises RecordError; each write puts the children
of the rows an upsert wrote; each `sql_*` is the set-based loader's twin of both (billing/sync/setbased.py).
"""

import re
from pathlib import Path
from typing import Any

from django.db import connection

from billing.models import Invoice, InvoiceKind, InvoiceLine, PaymentAllocation
from billing.sync import bulk, pdfs
from billing.sync.contract import STAGE, WRITTEN, Row, SqlTwin
from billing.sync.parsers import Json, RecordError, decimal, money, sql_literal, text

LINE_PARSERS = {
    "position": None,
    "description": text(200),
    "quantity": decimal(3),
    "unit": text(16),
    "unit_price_net": decimal(4),
    "net": money,
    "vat_rate": None,
    "vat": money,
    "gross": money,
}
VAT_RATES = {"23", "8", "5", "0", "zw"}


def parse_lines(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise RecordError("lines: must be a list")
    lines = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise RecordError(f"lines[{index}]: must be an object")
        line: dict[str, Any] = {}
        for key, parse in LINE_PARSERS.items():
            value = item.get(key)
            if key == "position":
                if not isinstance(value, int) or value < 1:
                    raise RecordError(f"lines[{index}].position: must be a positive integer")
                line[key] = value
            elif key == "vat_rate":
                if not isinstance(value, str) or value not in VAT_RATES:
                    raise RecordError(f"lines[{index}].vat_rate: must be one of {', '.join(sorted(VAT_RATES))}")
                line[key] = value
            else:
                try:
                    line[key] = parse(value)
                except RecordError as exc:
                    raise RecordError(f"lines[{index}].{key}: {exc}") from None
        if line["gross"] != line["net"] + line["vat"]:
            raise RecordError(f"lines[{index}]: gross is not net + vat")
        lines.append(line)
    if len({line["position"] for line in lines}) != len(lines):
        raise RecordError("lines: positions repeat")
    return lines


# KOD II of an offline invoice (KSeF 2.0): context type/context id/certificate serial/signature, URL-safe parts.
KOD_II_FIELDS = ("ksef_context_type", "ksef_context_id", "ksef_certificate_serial", "ksef_certificate_signature")
KOD_II_PATTERN = r"(Nip|InternalId|NipVatUe|PeppolId)/[A-Za-z0-9-]+/[0-9A-Fa-f]+/[A-Za-z0-9_=+/-]+"


def check_invoice(row: Row) -> None:
    v = row.values
    if v["gross"] != v["net"] + v["vat"]:
        raise RecordError("gross is not net + vat")
    if v["kind"] != InvoiceKind.CORRECTION and v["gross"] < 0:
        raise RecordError("gross is negative on a document that is not a correction")
    if v["kind"] == InvoiceKind.CORRECTION and not row.refs.get("corrected_invoice_id"):
        raise RecordError("a correction needs corrected_invoice_id")
    if (v["period_start"] is None) != (v["period_end"] is None):
        raise RecordError("period_start and period_end come together")
    if v["period_start"] is not None and v["period_end"] <= v["period_start"]:
        raise RecordError("period_end is not after period_start")
    kod_ii = [v[key] for key in KOD_II_FIELDS]
    if any(kod_ii) and not (all(kod_ii) and v["ksef_hash"] and re.fullmatch(KOD_II_PATTERN, "/".join(kod_ii))):
        raise RecordError(
            "KOD II: ksef_context_type (Nip, InternalId, NipVatUe, PeppolId), ksef_context_id, "
            "ksef_certificate_serial and ksef_certificate_signature (Base64URL) come together with ksef_hash"
        )
    lines = parse_lines(row.record.get("lines"))
    if lines:
        for key in ("net", "vat", "gross"):
            if sum(line[key] for line in lines) != v[key]:
                raise RecordError(f"lines do not add up to the document's {key}")
    row.record["_lines"] = lines
    pdf = row.record.get("pdf")
    if pdf is not None and (not isinstance(pdf, str) or ".." in Path(pdf).parts or Path(pdf).is_absolute()):
        raise RecordError("pdf: must be a relative path inside the batch")


def check_payment(row: Row) -> None:
    raw = row.record.get("allocations", [])
    if not isinstance(raw, list):
        raise RecordError("allocations: must be a list")
    allocations = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("invoice_id"), str):
            raise RecordError(f"allocations[{index}]: needs invoice_id")
        try:
            amount = decimal(2, positive=True)(item.get("amount"))
        except RecordError as exc:
            raise RecordError(f"allocations[{index}].amount: {exc}") from None
        allocations.append((item["invoice_id"], amount))
    if len({invoice_id for invoice_id, _ in allocations}) != len(allocations):
        raise RecordError("allocations: an invoice appears twice")
    if sum(amount for _, amount in allocations) > row.values["amount"]:
        raise RecordError("allocations add up to more than the payment")
    row.record["_allocations"] = allocations


def _sql_line(key: str) -> tuple[str, str]:
    return LINE_PARSERS[key].sql(Json(f"_j_{key}", f"_s_{key}"), InvoiceLine._meta.get_field(key))


def sql_invoice() -> SqlTwin:
    """SQL twin of check_invoice (with parse_lines) and write_invoice_lines; a PDF goes through Python."""
    parsed = [key for key, parse in LINE_PARSERS.items() if parse is not None]
    checks = [
        "jsonb_typeof(e) = 'object'",
        "jsonb_typeof(_pos) = 'number' AND _pos::text ~ '^[1-9][0-9]?[0-9]?[0-9]?$'",
        f"jsonb_typeof(e->'vat_rate') = 'string' AND (e->>'vat_rate') IN ({', '.join(map(sql_literal, VAT_RATES))})",
        *(_sql_line(key)[0] for key in parsed),
    ]
    net, vat, gross = (_sql_line(key)[1] for key in ("net", "vat", "gross"))
    element_ok = f"CASE WHEN coalesce({' AND '.join(checks)}, false) THEN {gross} = {net} + {vat} ELSE false END"
    taken = ", ".join(f"e->'{key}' AS _j_{key}, e->>'{key}' AS _s_{key}" for key in parsed)
    join = (
        "LEFT JOIN (SELECT _line, bool_and(ok) AND count(DISTINCT _pos) = count(*) AS _lines_ok, "
        f"sum(CASE WHEN ok THEN {net} END) AS _lines_net, sum(CASE WHEN ok THEN {vat} END) AS _lines_vat, "
        f"sum(CASE WHEN ok THEN {gross} END) AS _lines_gross "
        f"FROM (SELECT _line, _pos, {', '.join(f'_s_{key}' for key in ('net', 'vat', 'gross'))}, {element_ok} AS ok "
        f"FROM (SELECT s._line, e, e->'position' AS _pos, {taken} FROM {STAGE} s "
        "CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s._doc->'lines') = 'array' "
        "THEN s._doc->'lines' END) e OFFSET 0) l0 OFFSET 0) l1 GROUP BY _line) lines ON lines._line = s._line"
    )
    correction = sql_literal(InvoiceKind.CORRECTION)
    kod_ii = (
        f"{' || '.join(KOD_II_FIELDS)} = '' OR (ksef_hash <> '' AND "
        + " AND ".join(f"{key} <> ''" for key in KOD_II_FIELDS)
        + f" AND concat_ws('/', {', '.join(KOD_II_FIELDS)}) ~ {sql_literal('^' + KOD_II_PATTERN + '$')})"
    )
    check = (
        f"(gross = net + vat AND (kind = {correction} OR gross >= 0) "
        f"AND (kind <> {correction} OR corrected_invoice_id IS NOT NULL) "
        "AND (period_start IS NULL) = (period_end IS NULL) AND (period_start IS NULL OR period_end > period_start) "
        "AND (_doc->'pdf' IS NULL OR _doc->'pdf' = 'null'::jsonb) AND jsonb_typeof(_doc->'lines') = 'array' "
        "AND (_lines_ok IS NULL OR (_lines_ok AND _lines_net = net AND _lines_vat = vat AND _lines_gross = gross)) "
        f"AND ({kod_ii}))"
    )
    return SqlTwin(
        check, join, ("_lines_ok", "_lines_net", "_lines_vat", "_lines_gross"), after_write=sql_write_invoice_lines
    )


def sql_write_invoice_lines(parsed: str) -> list[str]:
    keys = list(LINE_PARSERS)
    special = {"position": "(e->>'position')::smallint", "vat_rate": "e->>'vat_rate'"}
    values = [special.get(key) or _sql_line(key)[1].replace(f"_s_{key}", f"(e->>'{key}')") for key in keys]
    return [
        f"DELETE FROM billing_invoiceline WHERE invoice_id = ANY(ARRAY(SELECT id FROM {WRITTEN} WHERE NOT created))",
        f"INSERT INTO billing_invoiceline (invoice_id, {', '.join(connection.ops.quote_name(k) for k in keys)}) "
        f"SELECT w.id, {', '.join(values)} FROM {WRITTEN} w "
        f"JOIN {parsed} p ON p.external_id = w.external_id AND p._ok AND NOT p._deleted "
        f"JOIN {STAGE} s ON s._line = p._line CROSS JOIN LATERAL jsonb_array_elements(s._doc->'lines') e",
    ]


def write_invoice_lines(rows: list[Row], written: dict[str, int], replaced: list[int]) -> None:
    if not written:
        return
    if replaced:  # a new invoice has no lines yet: skip the delete (and its plan on a table without statistics)
        InvoiceLine.objects.filter(invoice_id__in=replaced).delete()
    columns = ["invoice_id", *LINE_PARSERS]
    bulk.insert_rows(
        InvoiceLine,
        columns,
        (
            (written[row.external_id], *(line[key] for key in LINE_PARSERS))
            for row in rows
            if row.external_id in written
            for line in row.record["_lines"]
        ),
    )
    pdfs.invoice_pdfs_attach(rows, written)


def _sql_allocation_amount() -> tuple[str, str]:
    return decimal(2, positive=True).sql(Json.at("a", "amount"), PaymentAllocation._meta.get_field("amount"))


def sql_payment() -> SqlTwin:
    """SQL twin of check_payment, check_allocation_refs and write_allocations."""
    amount_ok, amount = _sql_allocation_amount()
    element_ok = (
        f"coalesce(jsonb_typeof(a) = 'object' AND jsonb_typeof(a->'invoice_id') = 'string' AND {amount_ok} "
        "AND (SELECT id FROM billing_invoice i WHERE i.external_id = a->>'invoice_id') IS NOT NULL, false)"
    )
    join = (
        "LEFT JOIN (SELECT _line, bool_and(ok) AND count(DISTINCT a->>'invoice_id') = count(*) AS _allocations_ok, "
        f"sum(CASE WHEN ok THEN {amount} END) AS _allocated FROM (SELECT s._line, a, {element_ok} AS ok "
        f"FROM {STAGE} s CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s._doc->'allocations') "
        "= 'array' THEN s._doc->'allocations' END) a OFFSET 0) l GROUP BY _line) allocations "
        "ON allocations._line = s._line"
    )
    check = (
        "((_doc->'allocations' IS NULL OR jsonb_typeof(_doc->'allocations') = 'array') "
        "AND (_allocations_ok IS NULL OR (_allocations_ok AND _allocated <= amount)))"
    )
    return SqlTwin(check, join, ("_allocations_ok", "_allocated"), after_write=sql_write_allocations)


def sql_write_allocations(parsed: str) -> list[str]:
    return [
        "DELETE FROM billing_paymentallocation "
        f"WHERE payment_id = ANY(ARRAY(SELECT id FROM {WRITTEN} WHERE NOT created))",
        "INSERT INTO billing_paymentallocation (payment_id, invoice_id, amount) "
        "SELECT w.id, (SELECT i.id FROM billing_invoice i WHERE i.external_id = a->>'invoice_id'), "
        f"{_sql_allocation_amount()[1]} FROM {WRITTEN} w "
        f"JOIN {parsed} p ON p.external_id = w.external_id AND p._ok AND NOT p._deleted "
        f"JOIN {STAGE} s ON s._line = p._line "
        "CROSS JOIN LATERAL jsonb_array_elements(coalesce(s._doc->'allocations', '[]'::jsonb)) a",
    ]


def write_allocations(rows: list[Row], written: dict[str, int], replaced: list[int]) -> None:
    if not written:
        return
    if replaced:
        PaymentAllocation.objects.filter(payment_id__in=replaced).delete()
    invoice_ids = bulk.resolve(Invoice, {i for row in rows for i, _ in row.record["_allocations"]})
    bulk.insert_rows(
        PaymentAllocation,
        ["payment_id", "invoice_id", "amount"],
        (
            (written[row.external_id], invoice_ids[invoice_id], amount)
            for row in rows
            if row.external_id in written
            for invoice_id, amount in row.record["_allocations"]
        ),
    )


def check_allocation_refs(rows: list[Row]) -> list[tuple[Row, str]]:
    """The payments whose allocations name an invoice the portal does not have."""
    known = bulk.resolve(Invoice, {i for row in rows for i, _ in row.record.get("_allocations", [])})
    failed = []
    for row in rows:
        missing = [i for i, _ in row.record["_allocations"] if i not in known]
        if missing:
            failed.append((row, f"allocations: unknown invoice_id {missing[0]}"))
    return failed
