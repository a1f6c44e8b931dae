"""The invoice PDF: a template that looks like the utility's printed invoice, rendered by WeasyPrint.

Always in Polish (it is a tax document), with the bundled DejaVu Sans for Polish letters.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from billing import qr
from billing.models import Invoice, InvoiceKind
from core.money import amount_in_words_pl

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
ZERO = Decimal("0.00")
RATE_ORDER = {"23": 0, "8": 1, "5": 2, "0": 3, "zw": 4}
# The document's printed name (a tax document: Polish whatever the reader's language).
TITLES = {
    InvoiceKind.INVOICE: "Faktura VAT",
    InvoiceKind.CORRECTION: "Faktura korygująca",
    InvoiceKind.INTEREST_NOTE: "Nota odsetkowa",
}


@dataclass(frozen=True)
class VatRow:
    rate: str
    net: Decimal
    vat: Decimal
    gross: Decimal

    @property
    def rate_label(self) -> str:
        return self.rate if self.rate == "zw" else f"{self.rate}%"


def vat_summary(lines) -> list[VatRow]:
    """The VAT table: net, VAT and gross per rate, as art. 106e of the VAT act asks."""
    sums: dict[str, list[Decimal]] = {}
    for line in lines:
        total = sums.setdefault(line.vat_rate, [ZERO, ZERO, ZERO])
        total[0] += line.net
        total[1] += line.vat
        total[2] += line.gross
    return [VatRow(rate, *sums[rate]) for rate in sorted(sums, key=lambda r: (RATE_ORDER.get(r, 9), r))]


def invoice_context(invoice: Invoice) -> dict:
    lines = list(invoice.lines.order_by("position", "id"))
    customer = invoice.customer
    period_last_day = invoice.period_end - timedelta(days=1) if invoice.period_end else None
    to_pay = invoice.gross if invoice.gross > 0 else ZERO
    transfer_title = qr.transfer_title(invoice_number=invoice.number, customer_number=customer.number)
    account_ok = qr.nrb_is_valid(customer.bank_account)
    context = {
        "invoice": invoice,
        "title": TITLES.get(invoice.kind, "Faktura"),
        "is_correction": invoice.kind == InvoiceKind.CORRECTION,
        "is_interest_note": invoice.kind == InvoiceKind.INTEREST_NOTE,
        "customer": customer,
        "point": invoice.delivery_point,
        "lines": lines,
        "vat_rows": vat_summary(lines),
        "period_last_day": period_last_day,
        "seller_name": settings.IBOK_UTILITY_NAME,
        "seller_nip": settings.IBOK_UTILITY_NIP,
        "seller_address": settings.IBOK_UTILITY_ADDRESS,
        "seller_email": getattr(settings, "IBOK_UTILITY_EMAIL", ""),
        "seller_phone": getattr(settings, "IBOK_UTILITY_PHONE", ""),
        "to_pay": to_pay,
        "in_words": amount_in_words_pl(invoice.gross),
        "account_ok": account_ok,
        "transfer_title": transfer_title,
        "transfer_qr_amount": qr.code_carries_amount(to_pay),
        "transfer_qr": qr.transfer_svg_data_uri(
            qr.transfer_text(
                recipient_nip=settings.IBOK_UTILITY_NIP,
                account=customer.bank_account,
                amount=to_pay,
                recipient=settings.IBOK_UTILITY_NAME,
                title=transfer_title,
            ),
            scale=3,
        )
        if account_ok and to_pay > 0
        else "",
        "ksef_codes": [
            {"url": code.url, "label": code.label, "qr": qr.svg_data_uri(code.url, scale=3)}
            for code in qr.ksef_codes(invoice, host=settings.IBOK_KSEF_QR_HOST, seller_nip=settings.IBOK_UTILITY_NIP)
        ],
        "font_dir": FONT_DIR.as_uri(),
    }
    return context


def render_invoice(*, invoice: Invoice) -> bytes:
    """The PDF's bytes (about 0.2–0.5 s; callers store them)."""
    from weasyprint import CSS, HTML

    with translation.override("pl"):
        context = invoice_context(invoice)
        html = render_to_string("billing/pdf/invoice.html", context)
        css = render_to_string("billing/pdf/invoice.css", context)
    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf(stylesheets=[CSS(string=css)])
