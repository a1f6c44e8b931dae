"""The invoice PDF: a template that looks like the utility's printed invoice, rendered by WeasyPrint.

Always in Polish (it is a tax document), with the bundled DejaVu Sans for Polish letters.

What a render costs (docs/performance.md): the stylesheet and its fonts are parsed once per process and reused
by every render (`stylesheet()`), and WeasyPrint fetches through `StaticFileFetcher`, which reads the portal's
own static files and data: URIs (the QR codes) and refuses everything else; WeasyPrint's default fetcher
builds two TLS contexts per document (about 0.1 s) for a network it must never reach.
"""

import atexit
import mimetypes
import threading
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib import request

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from billing import qr
from billing.models import Invoice, InvoiceKind
from core.money import amount_in_words_pl

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
FONT_DIR = STATIC_DIR / "fonts"
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
        "transfer_qr": qr.transfer_png_data_uri(
            qr.transfer_text(
                recipient_nip=settings.IBOK_UTILITY_NIP,
                account=customer.bank_account,
                amount=to_pay,
                recipient=settings.IBOK_UTILITY_NAME,
                title=transfer_title,
            )
        )
        if account_ok and to_pay > 0
        else "",
        "ksef_codes": [
            {"url": code.url, "label": code.label, "qr": qr.png_data_uri(code.url)}
            for code in qr.ksef_codes(invoice, host=settings.IBOK_KSEF_QR_HOST, seller_nip=settings.IBOK_UTILITY_NIP)
        ],
    }
    return context


class FetchRefused(ValueError):
    """WeasyPrint asked for something other than a static file of the portal or a data: URI."""


@lru_cache(maxsize=1)
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFileFetcher(URLFetcher):
        """Serves file: URLs inside `root` and data: URIs; refuses any other URL, and stops the render on it.

        WeasyPrint's URLFetcher.__init__ is not called: it installs HTTP(S) handlers, building TLS contexts.
        """

        def __init__(self, root: Path):
            request.OpenerDirector.__init__(self)
            self.root = root.resolve()
            self._fail_on_errors = True  # a missing font or a refused URL fails the render, never a blank spot
            self._allowed_protocols = ("file", "data")
            self._timeout = 0
            self._http_headers = {}
            self._request = None

        def fetch(self, url: str, headers=None):
            scheme = url.partition(":")[0].lower()
            if scheme == "data":
                with request.DataHandler().data_open(request.Request(url)) as response:
                    return URLFetcherResponse(url, response.read(), {"Content-Type": response.headers["Content-Type"]})
            if scheme == "file":
                path = Path(request.url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
                if path.is_relative_to(self.root) and path.is_file():
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
            raise FetchRefused(f"the invoice PDF reads only the portal's static files, not {url[:80]}")

    return StaticFileFetcher


def static_fetcher():
    """A URL fetcher for the portal's static folder (one a process: it holds no state between fetches)."""
    return _shared()[0]


@lru_cache(maxsize=1)
def _shared():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fetcher = _fetcher_class()(STATIC_DIR)
    fonts = FontConfiguration()
    css = render_to_string("billing/pdf/invoice.css", {"font_dir": FONT_DIR.as_uri()})
    return fetcher, fonts, CSS(string=css, url_fetcher=fetcher, font_config=fonts)


# Dropped before the interpreter tears modules down (FontConfiguration's __del__ removes its font folder).
atexit.register(_shared.cache_clear)


def stylesheet():
    """The parsed stylesheet and the font configuration holding its @font-face fonts, once per process."""
    _fetcher, fonts, css = _shared()
    return css, fonts


# WeasyPrint's shared font configuration (Pango, fontconfig) is not meant for two threads at once.
_render_lock = threading.Lock()


def render_invoice(*, invoice: Invoice) -> bytes:
    """The PDF's bytes (about 0.25 s of CPU warm, bench/pdf.py; callers store them)."""
    from weasyprint import HTML

    with translation.override("pl"):
        html = render_to_string("billing/pdf/invoice.html", invoice_context(invoice))
    with _render_lock:
        css, fonts = stylesheet()
        document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=static_fetcher())
        return document.write_pdf(stylesheets=[css], font_config=fonts)
