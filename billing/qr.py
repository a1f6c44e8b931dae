"""QR codes on invoices and the transfer page: the Polish banks' transfer code and the KSeF verification link."""

import re
from datetime import date
from decimal import Decimal

import segno
from stdnum import iban

from billing.payments.przelewy24 import to_grosze

KSEF_VERIFICATION_URL = "https://ksef.mf.gov.pl/client-app/invoice/{nip}/{issued}/{hash}"
_ZBP_FORBIDDEN = re.compile(r"[|\r\n]")


def nrb_is_valid(account: str) -> bool:
    """A Polish account number (NRB, 26 digits) with a valid IBAN checksum."""
    return bool(re.fullmatch(r"[0-9]{26}", account or "")) and iban.is_valid(f"PL{account}")


def _zbp_field(value: str, length: int) -> str:
    return _ZBP_FORBIDDEN.sub(" ", value or "").strip()[:length].rstrip()


# The ZBP recommendation's field lengths: the title is cut at 32 characters, the amount has six digits (grosze).
TITLE_LENGTH = 32
MAX_CODE_AMOUNT = Decimal("9999.99")


def transfer_title(*, customer_number: str, invoice_number: str = "") -> str:
    """A transfer title of at most 32 characters in which the invoice and customer numbers are never cut.

    The identifying parts come first and stay whole; the words around them are shortened, then dropped, until the
    title fits ("FV/02291/11/2026 nr odb. 100001", "... odb. 0100206", "FV/2026/11/000123 0100206").
    """
    customer_number = _zbp_field(customer_number, TITLE_LENGTH)
    invoice_number = _zbp_field(invoice_number, TITLE_LENGTH)
    if invoice_number:
        candidates = [
            f"{invoice_number} nr odb. {customer_number}",
            f"{invoice_number} odb. {customer_number}",
            f"{invoice_number} {customer_number}",
            invoice_number,  # the customer number is in the individual account number anyway
        ]
    else:
        candidates = [f"Nr odbiorcy {customer_number}", f"Nr odb. {customer_number}", customer_number]
    return next(candidate for candidate in candidates if len(candidate) <= TITLE_LENGTH)


def code_carries_amount(amount: Decimal | None) -> bool:
    """Whether the transfer code can carry this amount (six digits of grosze: up to 9 999,99 zł)."""
    return amount is not None and Decimal("0") < amount <= MAX_CODE_AMOUNT


def transfer_text(*, recipient_nip: str, account: str, amount: Decimal | None, recipient: str, title: str) -> str:
    """The ZBP recommendation's transfer code: NIP|PL|account|amount in grosze (6 digits)|name|title|||.

    The amount is a required field of six digits: an amount that does not fit (10 000 zł or more), or none, is
    written as zeros, which banking apps show as an amount for the payer to type; the page says so in words
    (code_carries_amount). Capping it instead would pre-fill a wrong amount.
    """
    amount_field = f"{to_grosze(amount):06d}" if code_carries_amount(amount) else "000000"
    return "|".join(
        [
            re.sub(r"\D", "", recipient_nip or ""),
            "PL",
            account,
            amount_field,
            _zbp_field(recipient, 20),
            _zbp_field(title, TITLE_LENGTH),
            "",
            "",
            "",
        ]
    )


def ksef_verification_url(*, seller_nip: str, issue_date: date, ksef_hash: str) -> str:
    """KSeF 2.0 "KOD I": the link a buyer scans to check the invoice in the national system."""
    return KSEF_VERIFICATION_URL.format(
        nip=re.sub(r"\D", "", seller_nip), issued=f"{issue_date:%d-%m-%Y}", hash=ksef_hash.rstrip("=")
    )


def svg_data_uri(text: str, *, scale: int = 4) -> str:
    """The QR code as an SVG data: URI (allowed by the portal's CSP for images; WeasyPrint draws it too)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=scale, border=2)


def transfer_svg_data_uri(text: str, *, scale: int = 4) -> str:
    """The transfer code as svg_data_uri, at the error-correction level the ZBP recommendation names: L.

    Not boosted: segno would otherwise raise the level whenever the text still fits the same size.
    """
    code = segno.make(text, error="l", boost_error=False, micro=False)
    return code.svg_data_uri(scale=scale, border=2)
