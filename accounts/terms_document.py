"""A version of the terms (regulamin) as a PDF, rendered by WeasyPrint with the bundled font for Polish letters."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import TermsVersion

FONT_DIR = settings.BASE_DIR / "static" / "fonts"


def render(*, terms: TermsVersion, language: str) -> bytes:
    """The PDF's bytes: the translation for `language` when there is one, noting that the Polish text is binding."""
    from weasyprint import CSS, HTML

    title, body, text_language = terms.translated(language)
    context = {
        "terms": terms,
        "title": title,
        "body": body,
        "text_language": text_language,
        "utility_name": settings.IBOK_UTILITY_NAME,
        "font_dir": FONT_DIR.as_uri(),
    }
    with translation.override(text_language):
        html = render_to_string("accounts/pdf/terms.html", context)
        css = render_to_string("accounts/pdf/terms.css", context)
    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf(stylesheets=[CSS(string=css)])
