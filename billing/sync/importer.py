"""Loads a billing batch (docs/billing-sync.md, contract version 1) with bulk upserts.

Each batch of rows is one transaction: parsed and validated in Python, references resolved with one query
per parent entity, then written with one upsert that touches only rows whose `changed_at` is newer. That
makes a load idempotent, lets a killed load be repeated safely, and leaves unchanged rows alone. A record
that breaks the contract is rejected with its file and line; the good records around it are loaded.
"""

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import DataError, IntegrityError, connection, models, transaction
from stdnum import iban
from stdnum.pl import nip, pesel

from accounts.models import Contract, ContractKind, Customer, CustomerKind, DeliveryPoint, Service
from billing import signals, versions
from billing.models import (
    CustomerBalance,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentChannel,
)
from meters.models import Medium, Meter, MeterKind, Reading, ReadingSource

logger = logging.getLogger(__name__)

CONTRACT_VERSION = 1
BATCH_SIZE = 5000
MAX_REPORTED_ERRORS = 1000
ANALYZE_AFTER_ROWS = 100_000  # a file that wrote this many rows has its tables analysed
ANALYZE_EVERY_ROWS = 2_000_000  # ... and again every this many while it loads
# The set-based loader's temporary tables (billing/sync/setbased.py) that the SQL twins below read.
STAGE = "_ibok_stage"  # (_line, _doc jsonb): the chunk's records
WRITTEN = "_ibok_written"  # (external_id, id, created): the rows its upsert wrote
# What the database says of a row it will not take (a broken rule, a number too long for its column); COPY
# raises psycopg's own errors, the ORM Django's.
REFUSED = (IntegrityError, DataError, psycopg.errors.IntegrityError, psycopg.errors.DataError)


class BatchRefused(Exception):
    """The batch as a whole cannot be loaded (no manifest, another contract version)."""


class RecordError(ValueError):
    """One record breaks the contract."""


# --- value parsers: each takes the JSON value and returns the Python value or raises RecordError ----------
#
# Each parser also has a PostgreSQL twin for the set-based loader (billing/sync/setbased.py): `sql(v, field)`
# gives a (check, value) pair of SQL expressions for the value `v` of a record. The check is true only for
# values the Python parser accepts as they are (a conservative subset: anything doubtful is false), and the
# value expression, evaluated only where the check holds, gives exactly what the parser would return. A record
# failing any check is handed to the Python parser, which loads it or rejects it with the reason. The SQL
# avoids what PostgreSQL does slowly (counted repetitions in regular expressions, correlated subqueries).

# Exactly the characters Python's str.strip() removes, as a PostgreSQL string for btrim().
SQL_SPACE = "E'" + "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x3001)) if c.isspace()) + "'"


def sql_strip(s: str) -> str:
    return f"btrim({s}, {SQL_SPACE})"


@dataclass(frozen=True)
class Json:
    """A value inside a JSON record, in SQL: `j` gives it as jsonb (NULL when absent), `s` as text."""

    j: str
    s: str

    @classmethod
    def at(cls, doc: str, key: str) -> "Json":
        parts = key.split(".")
        if len(parts) == 1:
            return cls(f"({doc}->'{key}')", f"({doc}->>'{key}')")
        path = "{" + ",".join(parts) + "}"
        return cls(f"({doc} #> '{path}')", f"({doc} #>> '{path}')")


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_null(v: Json) -> str:
    """The JSON value is absent, null or "" (what `optional` reads as None)."""
    return f"({v.j} IS NULL OR {v.j} = 'null'::jsonb OR {v.j} = '\"\"'::jsonb)"


def sql_shape(s: str) -> str:
    """`s` with every ASCII digit made 0: cheaper to compare with a few shapes than a regular expression."""
    return f"translate({s}, '0123456789', '0000000000')"


def sql_date_ok(s: str) -> str:
    """`s` (text of the shape 0000-00-00…) starts with a date that exists, in years 1000-9999."""
    month, day, year = f"substr({s}, 6, 2)::int", f"substr({s}, 9, 2)::int", f"substr({s}, 1, 4)::int"
    leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
    return (
        f"left({s}, 1) <> '0' AND substr({s}, 6, 2) COLLATE \"C\" BETWEEN '01' AND '12' "
        f"AND substr({s}, 9, 2) COLLATE \"C\" >= '01' AND (substr({s}, 9, 2) COLLATE \"C\" <= '28' "
        f"OR {day} <= CASE WHEN {month} IN (4, 6, 9, 11) THEN 30 "
        f"WHEN {month} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 31 END)"
    )


@dataclass(frozen=True)
class text:  # noqa: N801 - used like the other parser factories
    max_length: int
    blank: bool = False

    def __call__(self, value: Any) -> str:
        if value is None and self.blank:
            return ""
        if not isinstance(value, str):
            raise RecordError("must be a string")
        value = value.strip()
        if not value and not self.blank:
            raise RecordError("must not be empty")
        if len(value) > self.max_length:
            raise RecordError(f"longer than {self.max_length} characters")
        return value

    def sql(self, v: Json, field: Any = None) -> tuple[str, str]:
        stripped = sql_strip(v.s)
        string = (
            f"(jsonb_typeof({v.j}) = 'string' AND length({stripped}) BETWEEN {0 if self.blank else 1} "
            f"AND {self.max_length})"
        )
        if self.blank:
            return f"({v.j} IS NULL OR {v.j} = 'null'::jsonb OR {string})", f"coalesce({stripped}, '')"
        return string, stripped


@dataclass(frozen=True)
class choice:  # noqa: N801
    choices: type[models.TextChoices]

    def __post_init__(self):
        object.__setattr__(self, "allowed", frozenset(self.choices.values))  # .values is rebuilt on every access

    def __call__(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.allowed:
            raise RecordError(f"must be one of {', '.join(self.choices.values)}")
        return value

    def sql(self, v: Json, field: Any = None) -> tuple[str, str]:
        allowed = ", ".join(sql_literal(value) for value in sorted(self.allowed))
        check = f"{v.s} IN ({allowed})"
        if not all(re.fullmatch(r"[A-Z_]+", value) for value in self.allowed):
            check = f"jsonb_typeof({v.j}) = 'string' AND {check}"  # else only a JSON string has such a text
        return f"({check})", v.s


class _Date:
    def __call__(self, value: Any) -> date:
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise RecordError("must be a date YYYY-MM-DD") from None

    def sql(self, v: Json, field: Any = None) -> tuple[str, str]:
        return f"CASE WHEN {sql_shape(v.s)} = '0000-00-00' THEN {sql_date_ok(v.s)} ELSE false END", f"{v.s}::date"


a_date = _Date()


@dataclass(frozen=True)
class optional:  # noqa: N801
    parse: Callable[[Any], Any]

    def __call__(self, value: Any) -> Any:
        return None if value is None or value == "" else self.parse(value)

    def sql(self, v: Json, field: Any = None) -> tuple[str, str]:
        check, value = self.parse.sql(v, field)
        return f"({sql_null(v)} OR {check})", f"CASE WHEN {sql_null(v)} THEN NULL ELSE {value} END"


class _DateTime:
    # YYYY-MM-DDTHH:MM:SS, up to 6 decimals of a second, Z or an offset: the shapes both sides read alike.
    SHAPES = ", ".join(
        f"'0000-00-00T00:00:00{fraction}{offset}'"
        for fraction in ["", *("." + "0" * n for n in range(1, 7))]
        for offset in ("Z", "+00:00", "-00:00")
    )

    def __call__(self, value: Any) -> datetime:
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise RecordError("must be an ISO 8601 date and time") from None
        if moment.tzinfo is None:
            raise RecordError("must carry a UTC offset")
        return moment

    def sql(self, v: Json, field: Any = None) -> tuple[str, str]:
        # Hours to 23, minutes and seconds to 59, offsets to 14 hours.
        s = v.s
        check = (
            f"CASE WHEN {sql_shape(s)} IN ({self.SHAPES}) THEN substr({s}, 12, 2) COLLATE \"C\" <= '23' "
            f"AND substr({s}, 15, 1) <= '5' AND substr({s}, 18, 1) <= '5' AND (right({s}, 1) = 'Z' "
            f"OR (substr(right({s}, 5), 1, 2) COLLATE \"C\" <= '14' AND substr(right({s}, 2), 1, 1) <= '5')) "
            f"AND {sql_date_ok(s)} ELSE false END"
        )
        return check, f"{s}::timestamptz"


a_datetime = _DateTime()


@dataclass(frozen=True)
class decimal:  # noqa: N801
    places: int
    minimum: Decimal | None = None
    positive: bool = False

    def __call__(self, value: Any) -> Decimal:
        # Plain ASCII digits, an optional minus and at most `places` decimals: no exponents, NaN or floats.
        places = self.places
        if type(value) is not str or len(value) > 20:
            raise RecordError(f"must be a decimal string with at most {places} decimals")
        whole, dot, fraction = value.partition(".")
        whole = whole[1:] if whole.startswith("-") else whole
        if not (whole.isascii() and whole.isdigit()) or (
            dot and not (fraction.isascii() and fraction.isdigit() and len(fraction) <= places)
        ):
            raise RecordError(f"must be a decimal string with at most {places} decimals")
        number = Decimal(value)
        if self.positive and number <= 0:
            raise RecordError("must be greater than zero")
        if self.minimum is not None and number < self.minimum:
            raise RecordError(f"must not be below {self.minimum}")
        return number

    def sql(self, v: Json, field: Any = None) -> tuple[str, str]:
        # Whole digits are bounded by the column too, so that the value always fits it.
        whole = min(field.max_digits - field.decimal_places, 16) if field is not None else 9
        pattern = "'^-?[0-9]+(\\.[0-9]" + "[0-9]?" * (self.places - 1) + ")?$'"
        bounds = []
        if self.positive:
            bounds.append(f"{v.s}::numeric > 0")
        if self.minimum is not None:
            bounds.append(f"{v.s}::numeric >= {self.minimum}")
        shape = f"jsonb_typeof({v.j}) = 'string' AND {v.s} ~ {pattern} AND length(split_part({v.s}, '.', 1)) <= {whole}"
        check = f"CASE WHEN {shape} THEN {' AND '.join(bounds) or 'true'} ELSE false END"
        return check, f"{v.s}::numeric"


money = decimal(2)


@dataclass(frozen=True)
class checked:  # noqa: N801
    """A number with a check digit (NIP, PESEL, NRB); digits only are kept. No SQL twin: customers are few."""

    validate: Callable[[str], Any]
    what: str

    def __call__(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        if not isinstance(value, str):
            raise RecordError("must be a string")
        try:
            self.validate(value)
        except Exception:  # noqa: BLE001 - stdnum raises several ValidationError kinds
            raise RecordError(f"is not a valid {self.what}") from None
        return re.sub(r"\D", "", value)


def _nrb(value: str) -> None:
    digits = re.sub(r"\s", "", value)
    if not re.fullmatch(r"\d{26}", digits):
        raise ValueError("NRB has 26 digits")
    iban.validate("PL" + digits)


class _PostalCode:
    def __call__(self, value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"\d{2}-\d{3}", value):
            raise RecordError("must look like 00-000")
        return value

    def sql(self, v: Json, field: Any = None) -> tuple[str, str]:
        return f"({v.s} ~ '^[0-9][0-9]-[0-9][0-9][0-9]$')", v.s


postal_code = _PostalCode()


# --- what each entity file holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # key in the JSON record; "address.city" reads a nested object
    attname: str
    parse: Callable[[Any], Any]
    required: bool = True


@dataclass(frozen=True)
class Ref:
    key: str  # e.g. "customer_id": the billing system id of the parent
    attname: str  # the foreign key column it fills
    model: type[models.Model]
    required: bool = True


ADDRESS = [
    Column("address.street", "street", text(128)),
    Column("address.building", "building", text(16)),
    Column("address.apartment", "apartment", text(16, blank=True), required=False),
    Column("address.postal_code", "postal_code", postal_code),
    Column("address.city", "city", text(64)),
]


@dataclass
class Row:
    line: int
    external_id: str
    changed_at: datetime
    values: dict[str, Any]
    record: dict[str, Any]
    refs: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Entity:
    name: str
    model: type[models.Model]
    columns: list[Column]
    refs: list[Ref] = field(default_factory=list)
    check: Callable[[Row], None] | None = None
    # (loader, rows, {external_id: pk} written, pks of the written rows that existed before)
    after_write: Callable[["Loader", list[Row], dict[str, int], list[int]], None] | None = None
    # The set-based loader's twin of `check` and `after_write` (billing/sync/setbased.py).
    sql: Callable[[], "SqlTwin"] | None = None

    @property
    def set_based(self) -> bool:
        """Every part of this entity has a SQL twin, so PostgreSQL may load it without Python parsing."""
        return all(hasattr(column.parse, "sql") for column in self.columns) and (
            self.sql is not None or (self.check is None and self.after_write is None)
        )


@dataclass(frozen=True)
class SqlTwin:
    """An entity's record check and child writes in SQL, for billing/sync/setbased.py.

    `check` is a boolean expression over the typed columns, the record `_doc` and the `join_columns`, which
    `join` (a LEFT JOIN of an aggregate over the staged records `s`, by `_line`) provides. `after_write`
    gives the statements that write the children of the rows in WRITTEN, from the parsed table named and the
    staged records (STAGE).
    """

    check: str
    join: str = ""
    join_columns: tuple[str, ...] = ()
    after_write: Callable[[str], list[str]] | None = None


def _check_contract(row: Row) -> None:
    until = row.values["valid_until"]
    if until is not None and until < row.values["valid_from"]:
        raise RecordError("valid_until is before valid_from")


def _sql_contract() -> SqlTwin:
    return SqlTwin("(valid_until IS NULL OR valid_until >= valid_from)")


def _check_meter(row: Row) -> None:
    removed = row.values["removed_date"]
    if removed is not None and removed < row.values["installed_date"]:
        raise RecordError("removed_date is before installed_date")


def _sql_meter() -> SqlTwin:
    return SqlTwin("(removed_date IS NULL OR removed_date >= installed_date)")


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


def _parse_lines(raw: Any) -> list[dict[str, Any]]:
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


def _check_invoice(row: Row) -> None:
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
    lines = _parse_lines(row.record.get("lines"))
    if lines:
        for key in ("net", "vat", "gross"):
            if sum(line[key] for line in lines) != v[key]:
                raise RecordError(f"lines do not add up to the document's {key}")
    row.record["_lines"] = lines
    pdf = row.record.get("pdf")
    if pdf is not None and (not isinstance(pdf, str) or ".." in Path(pdf).parts or Path(pdf).is_absolute()):
        raise RecordError("pdf: must be a relative path inside the batch")


def _check_payment(row: Row) -> None:
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


def _sql_invoice() -> SqlTwin:
    """SQL twin of _check_invoice (with _parse_lines) and _write_invoice_lines; a PDF goes through Python."""
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
    check = (
        f"(gross = net + vat AND (kind = {correction} OR gross >= 0) "
        f"AND (kind <> {correction} OR corrected_invoice_id IS NOT NULL) "
        "AND (period_start IS NULL) = (period_end IS NULL) AND (period_start IS NULL OR period_end > period_start) "
        "AND (_doc->'pdf' IS NULL OR _doc->'pdf' = 'null'::jsonb) AND jsonb_typeof(_doc->'lines') = 'array' "
        "AND (_lines_ok IS NULL OR (_lines_ok AND _lines_net = net AND _lines_vat = vat AND _lines_gross = gross)))"
    )
    return SqlTwin(
        check, join, ("_lines_ok", "_lines_net", "_lines_vat", "_lines_gross"), after_write=_sql_write_invoice_lines
    )


def _sql_write_invoice_lines(parsed: str) -> list[str]:
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


def _write_invoice_lines(loader: "Loader", rows: list[Row], written: dict[str, int], replaced: list[int]) -> None:
    if not written:
        return
    if replaced:  # a new invoice has no lines yet: skip the delete (and its plan on a table without statistics)
        InvoiceLine.objects.filter(invoice_id__in=replaced).delete()
    columns = ["invoice_id", *LINE_PARSERS]
    loader.insert_rows(
        InvoiceLine,
        columns,
        (
            (written[row.external_id], *(line[key] for key in LINE_PARSERS))
            for row in rows
            if row.external_id in written
            for line in row.record["_lines"]
        ),
    )
    for row in rows:
        pdf = row.record.get("pdf")
        if pdf and row.external_id in written:
            loader.attach_pdf(written[row.external_id], row.values["number"], pdf)


def _sql_allocation_amount() -> tuple[str, str]:
    return decimal(2, positive=True).sql(Json.at("a", "amount"), PaymentAllocation._meta.get_field("amount"))


def _sql_payment() -> SqlTwin:
    """SQL twin of _check_payment, _check_allocation_refs and _write_allocations."""
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
    return SqlTwin(check, join, ("_allocations_ok", "_allocated"), after_write=_sql_write_allocations)


def _sql_write_allocations(parsed: str) -> list[str]:
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


def _write_allocations(loader: "Loader", rows: list[Row], written: dict[str, int], replaced: list[int]) -> None:
    if not written:
        return
    if replaced:
        PaymentAllocation.objects.filter(payment_id__in=replaced).delete()
    invoice_ids = loader.resolve(Invoice, {i for row in rows for i, _ in row.record["_allocations"]})
    loader.insert_rows(
        PaymentAllocation,
        ["payment_id", "invoice_id", "amount"],
        (
            (written[row.external_id], invoice_ids[invoice_id], amount)
            for row in rows
            if row.external_id in written
            for invoice_id, amount in row.record["_allocations"]
        ),
    )


def _check_allocation_refs(loader: "Loader", rows: list[Row]) -> list[tuple[Row, str]]:
    known = loader.resolve(Invoice, {i for row in rows for i, _ in row.record.get("_allocations", [])})
    failed = []
    for row in rows:
        missing = [i for i, _ in row.record["_allocations"] if i not in known]
        if missing:
            failed.append((row, f"allocations: unknown invoice_id {missing[0]}"))
    return failed


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
            Column("bank_account", "bank_account", checked(_nrb, "bank account number (NRB)"), required=False),
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
        ],
        refs=[
            Ref("customer_id", "customer_id", Customer),
            Ref("delivery_point_id", "delivery_point_id", DeliveryPoint, required=False),
            Ref("corrected_invoice_id", "corrected_invoice_id", Invoice, required=False),
        ],
        check=_check_invoice,
        after_write=_write_invoice_lines,
        sql=_sql_invoice,
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
        check=_check_payment,
        after_write=_write_allocations,
        sql=_sql_payment,
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
]
ENTITY_BY_NAME = {entity.name: entity for entity in ENTITIES}


@dataclass
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0


@dataclass
class LoadResult:
    cursor: str
    full: bool
    counts: dict[str, Counts]
    errors: list[dict[str, Any]]

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchRefused(f"{path} is missing") from None
    except json.JSONDecodeError as exc:
        raise BatchRefused(f"{path} is not valid JSON: {exc}") from None
    if manifest.get("contract_version") != CONTRACT_VERSION:
        raise BatchRefused(
            f"contract version {manifest.get('contract_version')!r} is not supported (expected {CONTRACT_VERSION})"
        )
    return manifest


class Loader:
    """Loads one batch folder. Not thread-safe; one per run."""

    def __init__(
        self, folder: Path, *, batch_size: int | None = None, set_based: bool = True, workers: int | None = None
    ):
        self.folder = Path(folder)
        self.set_based = set_based  # PostgreSQL: parse and write in SQL what it can (billing/sync/setbased.py)
        self.workers = workers or getattr(settings, "IBOK_SYNC_WORKERS", 2)
        self.batch_size = batch_size or getattr(settings, "IBOK_SYNC_BATCH_SIZE", BATCH_SIZE)
        self.counts: dict[str, Counts] = {}
        self.errors: list[dict[str, Any]] = []
        self.deletions: dict[str, list[tuple[int, str, datetime]]] = {}
        self.postgres = connection.vendor == "postgresql"

    # --- the run ---------------------------------------------------------------------------------------

    def load(self) -> LoadResult:
        manifest = read_manifest(self.folder)
        for entity in ENTITIES:
            path = self.folder / f"{entity.name}.jsonl"
            self.counts[entity.name] = Counts()
            if path.exists():
                self.load_file(entity, path)
                self.analyze_if_grown(entity)
        for entity in reversed(ENTITIES):
            self.apply_deletions(entity)
        return LoadResult(
            cursor=str(manifest.get("cursor", "")),
            full=bool(manifest.get("full", False)),
            counts=self.counts,
            errors=self.errors,
        )

    def reject(self, entity: Entity, line: int, message: str, record_id: str | None = None) -> None:
        self.counts[entity.name].rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"file": f"{entity.name}.jsonl", "line": line, "id": record_id, "error": message})
        logger.warning("rejected %s.jsonl line %s (%s): %s", entity.name, line, record_id, message)

    def load_file(self, entity: Entity, path: Path) -> None:
        chunks = self._chunks(entity, path)
        if not (self.postgres and self.set_based and entity.set_based):
            for chunk in chunks:
                self._load_lines(entity, chunk)
            return
        from billing.sync.setbased import SetBasedChunks

        fast = SetBasedChunks(entity)
        # Chunks load on several connections at once, unless the caller holds a transaction open (a test):
        # other connections could not see what it holds.
        if self.workers > 1 and not connection.in_atomic_block:
            results = fast.load_parallel(chunks, workers=self.workers)
        else:
            results = (fast.load_chunk(chunk) for chunk in chunks)
        counts, analysed_at = self.counts[entity.name], 0
        for result in results:
            if left := fast.apply(self, result):
                self._load_lines(entity, left)
            if counts.created + counts.updated - analysed_at >= ANALYZE_EVERY_ROWS:
                # A large first load: keep the planner's statistics of the growing tables current.
                analysed_at = counts.created + counts.updated
                self.analyze(entity)

    def analyze_if_grown(self, entity: Entity) -> None:
        """After a large load, refresh the planner's statistics of what it wrote (autovacuum may lag, or be off):
        the next file's lookups and the portal's pages are planned on them."""
        counts = self.counts[entity.name]
        if self.postgres and counts.created + counts.updated >= ANALYZE_AFTER_ROWS:
            self.analyze(entity)

    def analyze(self, entity: Entity) -> None:
        tables = [entity.model._meta.db_table]
        children = {"invoices": InvoiceLine, "payments": PaymentAllocation}
        tables += [children[entity.name]._meta.db_table] if entity.name in children else []
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    def _load_lines(self, entity: Entity, lines: list[tuple[int, str]]) -> None:
        """The Python path: parse and check each record, resolve references, write."""
        rows = [row for number, line in lines if (row := self._parse(entity, number, line)) is not None]
        rows = self._dedupe(rows)
        rows = self._resolve_refs(entity, rows)
        if entity.name == "payments":
            for row, message in _check_allocation_refs(self, rows):
                self.reject(entity, row.line, message, row.external_id)
                rows.remove(row)
        self._write(entity, rows)

    def _chunks(self, entity: Entity, path: Path) -> Iterator[list[tuple[int, str]]]:
        """(line number, text) of the non-blank lines, batch_size at a time: constant memory for any file."""
        chunk: list[tuple[int, str]] = []
        counts = self.counts[entity.name]
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                counts.read += 1
                chunk.append((number, line.rstrip("\r\n")))
                if len(chunk) >= self.batch_size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def _parse(self, entity: Entity, number: int, line: str) -> Row | None:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            self.reject(entity, number, f"not valid JSON: {exc.msg}")
            return None
        if not isinstance(record, dict):
            self.reject(entity, number, "not a JSON object")
            return None
        record_id = record.get("id")
        try:
            external_id = text(64)(record_id)
            changed_at = a_datetime(record.get("changed_at"))
        except RecordError as exc:
            self.reject(entity, number, f"id/changed_at: {exc}", record_id if isinstance(record_id, str) else None)
            return None
        if record.get("deleted") is True:
            self.deletions.setdefault(entity.name, []).append((number, external_id, changed_at))
            return None
        values: dict[str, Any] = {}
        try:
            for column in entity.columns:
                raw = _lookup(record, column.key)
                if raw is _MISSING:
                    if column.required:
                        raise RecordError(f"{column.key}: is required")
                    raw = None
                try:
                    values[column.attname] = column.parse(raw)
                except RecordError as exc:
                    raise RecordError(f"{column.key}: {exc}") from None
            refs = {}
            for ref in entity.refs:
                raw = record.get(ref.key)
                if raw in (None, ""):
                    if ref.required:
                        raise RecordError(f"{ref.key}: is required")
                    refs[ref.key] = None
                elif not isinstance(raw, str):
                    raise RecordError(f"{ref.key}: must be a string id")
                else:
                    refs[ref.key] = raw
            row = Row(number, external_id, changed_at, values, record, refs)
            if entity.check:
                entity.check(row)
        except RecordError as exc:
            self.reject(entity, number, str(exc), external_id)
            return None
        return row

    @staticmethod
    def _dedupe(rows: list[Row]) -> list[Row]:
        """The same id twice in one chunk: the later change wins (an upsert may touch a row once)."""
        latest: dict[str, Row] = {}
        for row in rows:
            current = latest.get(row.external_id)
            if current is None or row.changed_at >= current.changed_at:
                latest[row.external_id] = row
        return list(latest.values())

    def resolve(self, model: type[models.Model], external_ids: Iterable[str]) -> dict[str, int]:
        """{external_id: pk} of the given ids that exist."""
        ids = list(set(external_ids))
        found: dict[str, int] = {}
        if not ids:
            return found
        if self.postgres:
            # One array parameter instead of thousands of bound values: much cheaper to send and plan.
            table = connection.ops.quote_name(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT external_id, id FROM {table} WHERE external_id = ANY(%s)", [ids])
                found.update(cursor.fetchall())
            return found
        for start in range(0, len(ids), 10_000):
            part = ids[start : start + 10_000]
            found.update(model.objects.filter(external_id__in=part).values_list("external_id", "pk"))
        return found

    def _resolve_refs(self, entity: Entity, rows: list[Row]) -> list[Row]:
        own_ids = {row.external_id for row in rows}
        good = []
        for ref in entity.refs:
            targets = self.resolve(ref.model, {row.refs[ref.key] for row in rows if row.refs.get(ref.key)})
            for row in rows:
                wanted = row.refs.get(ref.key)
                if wanted is None:
                    row.values[ref.attname] = None
                elif wanted in targets:
                    row.values[ref.attname] = targets[wanted]
                elif ref.model is entity.model and wanted in own_ids:
                    row.values[ref.attname] = _DEFERRED
                else:
                    row.values[ref.attname] = _MISSING
        for row in rows:
            missing = [ref.key for ref in entity.refs if row.values.get(ref.attname) is _MISSING]
            if missing:
                self.reject(entity, row.line, f"{missing[0]}: unknown id {row.refs[missing[0]]}", row.external_id)
            else:
                good.append(row)
        return good

    # --- writing ---------------------------------------------------------------------------------------

    def _write(self, entity: Entity, rows: list[Row]) -> None:
        # A row pointing at another row of the same chunk (a correction of an invoice above it) waits for it.
        first = [row for row in rows if _DEFERRED not in row.values.values()]
        later = [row for row in rows if _DEFERRED in row.values.values()]
        for part in (first, later):
            if not part:
                continue
            if part is later:
                part = self._resolve_refs(entity, part)
            try:
                with transaction.atomic():
                    if self.postgres:
                        # Safe to lose on a server crash: WAL order drops the run's own success record with
                        # it, and the next sync loads the chunk again. Saves an fsync per chunk.
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL synchronous_commit TO OFF")
                            cursor.execute("SET LOCAL jit TO off")  # compiling costs more than it saves here
                    self._write_rows(entity, part)
            except REFUSED:
                # One bad row spoils the bulk statement: write one by one to find and reject it.
                for row in part:
                    try:
                        with transaction.atomic():
                            self._write_rows(entity, [row])
                    except REFUSED as exc:
                        self.reject(entity, row.line, f"refused by the database: {_first_line(exc)}", row.external_id)

    def _write_rows(self, entity: Entity, rows: list[Row]) -> None:
        model = entity.model
        existing = set(self.resolve(model, (row.external_id for row in rows)))
        attnames = ["external_id", "source_updated_at", *(c.attname for c in entity.columns)]
        attnames += [ref.attname for ref in entity.refs]
        values = [(row.external_id, row.changed_at, *(row.values[a] for a in attnames[2:])) for row in rows]
        written = self.upsert(model, attnames, values)
        versions.rows_changed(model, written.values())
        if entity.after_write:
            entity.after_write(self, rows, written, [pk for ext, pk in written.items() if ext in existing])
        # Counted only once everything of the chunk is written: a rolled-back chunk counts nothing.
        counts = self.counts[entity.name]
        created = [ext for ext in written if ext not in existing]
        counts.created += len(created)
        counts.updated += len(written) - len(created)
        counts.unchanged += len(rows) - len(written)
        if model is Invoice and created:
            # Announced per committed chunk: a first load of millions of invoices never sits in memory.
            invoice_ids = [written[ext] for ext in created]
            transaction.on_commit(lambda: signals.invoices_imported.send(sender=Invoice, invoice_ids=invoice_ids))

    def upsert(self, model: type[models.Model], attnames: list[str], rows: list[tuple]) -> dict[str, int]:
        """Insert or update by external_id when the incoming change is newer; returns {external_id: pk} written."""
        table = connection.ops.quote_name(model._meta.db_table)
        quoted = [connection.ops.quote_name(a) for a in attnames]
        updates = ", ".join(f"{q} = excluded.{q}" for q in quoted if q != '"external_id"')
        conflict = (
            f"ON CONFLICT (external_id) DO UPDATE SET {updates} "
            f"WHERE {table}.source_updated_at < excluded.source_updated_at RETURNING external_id, id"
        )
        written: dict[str, int] = {}
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS _ibok_import_{model._meta.model_name} "
                    f"ON COMMIT DELETE ROWS AS SELECT {', '.join(quoted)} FROM {table} WITH NO DATA"
                )
                staging = f"_ibok_import_{model._meta.model_name}"
                with cursor.cursor.copy(f"COPY {staging} ({', '.join(quoted)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(quoted)}) SELECT {', '.join(quoted)} FROM {staging} {conflict}"
                )
                written.update(cursor.fetchall())
                cursor.execute(f"TRUNCATE {staging}")
            else:
                fields = [model._meta.get_field(a) for a in attnames]
                per_statement = max(1, 30_000 // len(attnames))
                placeholders = "(" + ", ".join(["%s"] * len(attnames)) + ")"
                for start in range(0, len(rows), per_statement):
                    part = rows[start : start + per_statement]
                    params = [
                        f.get_db_prep_save(v, connection) for row in part for f, v in zip(fields, row, strict=True)
                    ]
                    cursor.execute(
                        f"INSERT INTO {table} ({', '.join(quoted)}) VALUES {', '.join([placeholders] * len(part))} "
                        f"{conflict}",
                        params,
                    )
                    written.update(cursor.fetchall())
        return written

    def insert_rows(self, model: type[models.Model], attnames: list[str], rows: Iterable[tuple]) -> None:
        """Plain bulk insert of child rows (invoice lines, allocations)."""
        table = connection.ops.quote_name(model._meta.db_table)
        quoted = ", ".join(connection.ops.quote_name(a) for a in attnames)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                fields = [model._meta.get_field(a) for a in attnames]
                prepared = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows
                ]
                if prepared:
                    cursor.executemany(
                        f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(attnames))})", prepared
                    )

    def attach_pdf(self, invoice_id: int, number: str, relative: str) -> None:
        source = self.folder / relative
        if not source.is_file():
            logger.warning("invoice %s: PDF %s is missing in the batch", number, relative)
            return
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", number)
        with source.open("rb") as handle:
            name = default_storage.save(f"invoices/billing/{safe}.pdf", File(handle))
        Invoice.objects.filter(pk=invoice_id).update(pdf=name)

    def apply_deletions(self, entity: Entity) -> None:
        wanted = self.deletions.get(entity.name, [])
        for start in range(0, len(wanted), self.batch_size):
            part = wanted[start : start + self.batch_size]
            stored = dict(
                entity.model.objects.filter(external_id__in=[ext for _, ext, _ in part]).values_list(
                    "external_id", "source_updated_at"
                )
            )
            doomed = [ext for _, ext, changed in part if ext in stored and stored[ext] <= changed]
            if doomed:
                with transaction.atomic():
                    doomed_rows = entity.model.objects.filter(external_id__in=doomed)
                    versions.rows_changed(entity.model, doomed_rows.values("pk"))
                    doomed_rows.delete()
            self.counts[entity.name].deleted += len(doomed)


_MISSING = object()
_DEFERRED = object()


def _lookup(record: dict[str, Any], key: str) -> Any:
    value: Any = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
