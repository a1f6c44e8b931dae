"""QR codes on invoices and the transfer page: the Polish banks' transfer code and the KSeF verification link."""

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import segno
from stdnum import iban

from billing.payments.przelewy24 import to_grosze

# The Ministry of Finance's KSeF 2.0 verification codes (github.com/CIRFMF/ksef-docs, kody-qr.md): the host is
# qr.ksef.mf.gov.pl in production, qr-test.ksef.mf.gov.pl and qr-demo.ksef.mf.gov.pl in the test and demo systems.
KSEF_INVOICE_URL = "https://{host}/invoice/{nip}/{issued}/{hash}"
KSEF_CERTIFICATE_URL = "https://{host}/certificate/{context_type}/{context_id}/{nip}/{serial}/{hash}/{signature}"
KSEF_OFFLINE_LABEL = "OFFLINE"  # under KOD I while the invoice has no KSeF number yet
KSEF_CERTIFICATE_LABEL = "CERTYFIKAT"  # under KOD II
KSEF_CONTEXT_TYPES = ("Nip", "InternalId", "NipVatUe", "PeppolId")
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


def base64url(value: str) -> str:
    """A Base64 or Base64URL text as Base64URL without padding, as the codes carry it."""
    return value.strip().replace("+", "-").replace("/", "_").rstrip("=")


def invoice_xml_hash(xml: bytes) -> str:
    """The invoice file's SHA-256 in Base64URL without padding (the "wyróżnik pliku faktury")."""
    return base64.urlsafe_b64encode(hashlib.sha256(xml).digest()).decode("ascii").rstrip("=")


def ksef_verification_url(*, host: str, seller_nip: str, issue_date: date, ksef_hash: str) -> str:
    """KSeF 2.0 "KOD I": the link a buyer scans to check the invoice in the national system."""
    return KSEF_INVOICE_URL.format(
        host=host, nip=re.sub(r"\D", "", seller_nip), issued=f"{issue_date:%d-%m-%Y}", hash=base64url(ksef_hash)
    )


def ksef_certificate_url(
    *, host: str, context_type: str, context_id: str, seller_nip: str, serial: str, ksef_hash: str, signature: str
) -> str:
    """KSeF 2.0 "KOD II" of an offline invoice: the issuer's KSeF certificate, with the billing system's signature."""
    return KSEF_CERTIFICATE_URL.format(
        host=host,
        context_type=context_type,
        context_id=context_id,
        nip=re.sub(r"\D", "", seller_nip),
        serial=serial,
        hash=base64url(ksef_hash),
        signature=base64url(signature),
    )


@dataclass(frozen=True)
class KsefCode:
    url: str
    label: str  # printed under the code: the KSeF number, OFFLINE or CERTYFIKAT


def ksef_codes(invoice, *, host: str, seller_nip: str) -> list[KsefCode]:
    """The codes an invoice carries: none before KSeF, KOD I, and for an offline invoice KOD II when sent."""
    if not invoice.ksef_hash:
        return []
    codes = [
        KsefCode(
            url=ksef_verification_url(
                host=host, seller_nip=seller_nip, issue_date=invoice.issue_date, ksef_hash=invoice.ksef_hash
            ),
            label=invoice.ksef_number or KSEF_OFFLINE_LABEL,
        )
    ]
    if invoice.ksef_certificate_serial:
        codes.append(
            KsefCode(
                url=ksef_certificate_url(
                    host=host,
                    context_type=invoice.ksef_context_type,
                    context_id=invoice.ksef_context_id,
                    seller_nip=seller_nip,
                    serial=invoice.ksef_certificate_serial,
                    ksef_hash=invoice.ksef_hash,
                    signature=invoice.ksef_certificate_signature,
                ),
                label=KSEF_CERTIFICATE_LABEL,
            )
        )
    return codes


def svg_data_uri(text: str, *, scale: int = 4) -> str:
    """The QR code as an SVG data: URI (allowed by the portal's CSP for images; WeasyPrint draws it too)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=scale, border=2)


def _transfer_code(text: str):
    # Not boosted: segno would otherwise raise the level whenever the text still fits the same size.
    return segno.make(text, error="l", boost_error=False, micro=False)


def transfer_svg_data_uri(text: str, *, scale: int = 4) -> str:
    """The transfer code as svg_data_uri, at the error-correction level the ZBP recommendation names: L."""
    return _transfer_code(text).svg_data_uri(scale=scale, border=2)


def png_data_uri(text: str) -> str:
    """svg_data_uri's code as a PNG of one pixel a module, for the PDF, which scales it up without smoothing
    (image-rendering: pixelated): the same sharp modules, drawn as one image instead of an SVG path of hundreds
    of segments."""
    return segno.make(text, error="m", micro=False).png_data_uri(scale=1, border=2)


def transfer_png_data_uri(text: str) -> str:
    """transfer_svg_data_uri's code as png_data_uri's PNG."""
    return _transfer_code(text).png_data_uri(scale=1, border=2)
