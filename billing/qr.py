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


def transfer_text(*, recipient_nip: str, account: str, amount: Decimal | None, recipient: str, title: str) -> str:
    """The ZBP recommendation's transfer code: NIP|PL|account|amount in grosze (6 digits)|name|title|||.

    An amount above 9 999,99 zł does not fit the six digits: it is left empty for the payer to type.
    """
    grosze = to_grosze(amount) if amount is not None and amount > 0 else 0
    amount_field = f"{grosze:06d}" if 0 < grosze <= 999_999 else ""
    return "|".join(
        [
            re.sub(r"\D", "", recipient_nip or ""),
            "PL",
            account,
            amount_field,
            _zbp_field(recipient, 20),
            _zbp_field(title, 32),
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
