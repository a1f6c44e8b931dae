"""The three paper forms as PDF (request, address change, resignation), rendered by WeasyPrint.

Like the invoice (billing/pdf.py): Polish whatever the reader's language, with the bundled DejaVu Sans for
Polish letters. The forms are the same for everyone, so each is rendered once per process.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from billing.pdf import FONT_DIR


@dataclass(frozen=True)
class PaperFormSpec:
    title: str
    filename: str


FORMS = {
    "request": PaperFormSpec(
        "Wniosek o przesyłanie faktur i innej korespondencji drogą elektroniczną", "wniosek-e-faktura.pdf"
    ),
    "address-change": PaperFormSpec(
        "Wniosek o zmianę adresu e-mail do przesyłania e-faktur", "zmiana-adresu-e-faktura.pdf"
    ),
    "resignation": PaperFormSpec(
        "Rezygnacja z przesyłania faktur i korespondencji drogą elektroniczną", "rezygnacja-e-faktura.pdf"
    ),
}


@lru_cache(maxsize=8)
def render_form(*, kind: str) -> bytes:
    """The form's PDF bytes."""
    from weasyprint import CSS, HTML

    context = {
        "kind": kind,
        "title": FORMS[kind].title,
        "utility_name": settings.IBOK_UTILITY_NAME,
        "utility_address": settings.IBOK_UTILITY_ADDRESS,
        "utility_email": settings.IBOK_UTILITY_EMAIL,
        "utility_phone": settings.IBOK_UTILITY_PHONE,
        "font_dir": FONT_DIR.as_uri(),
    }
    with translation.override("pl"):
        html = render_to_string("einvoice/pdf/form.html", context)
        css = render_to_string("einvoice/pdf/form.css", context)
    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf(stylesheets=[CSS(string=css)])
