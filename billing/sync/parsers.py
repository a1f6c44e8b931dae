"""The contract's value parsers, each with its PostgreSQL form (docs/billing-sync.md, contract version 1).

A parser takes a record's JSON value and returns the Python value or raises RecordError. Its `sql(v, field)`
gives a (check, value) pair of SQL expressions for the value `v` of a record, read by the set-based loader
(billing/sync/setbased.py). The check is true only for values the Python parser accepts as they are (a
conservative subset: anything doubtful is false), and the value expression, evaluated only where the check
holds, gives exactly what the parser would return. A record failing any check is handed to the Python parser,
which loads it or rejects it with the reason. The SQL avoids what PostgreSQL does slowly (counted repetitions
in regular expressions, correlated subqueries).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from stdnum import iban


class RecordError(ValueError):
    """One record breaks the contract."""


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


def validate_nrb(value: str) -> None:
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
