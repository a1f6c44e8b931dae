"""The demo's Documents tab: the terms in two versions (Polish, English, Ukrainian), the forms and tariffs the
office publishes, and the demo customer's own contract and letter. Safe to run again: rows are found by their
external id (terms by version) and left as they are."""

from datetime import UTC, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.template import Context, Template
from django.utils import timezone

from accounts.models import Customer, TermsVersion
from billing.pdf import FONT_DIR
from demo import terms as demo_terms
from einvoice import pdf as einvoice_pdf
from notices.models import Document, DocumentCategory

TERMS_VERSIONS = {"2024-06": datetime(2024, 6, 1, tzinfo=UTC), "2026-02": datetime(2026, 2, 1, tzinfo=UTC)}

# (external id, category, title, description, the points of the form). The three e-invoice forms are the
# portal's own paper forms (einvoice/pdf.py).
FORMS = [
    ("demo:form-address", DocumentCategory.FORM, "Wniosek o zmianę danych odbiorcy lub adresu do korespondencji",
     "Nowy adres, nazwisko, nazwa firmy lub numer rachunku do zwrotów.",
     ["Numer odbiorcy", "Dotychczasowe dane", "Nowe dane", "Od kiedy", "Dokument potwierdzający zmianę"]),
    ("demo:form-contract", DocumentCategory.FORM, "Wniosek o zawarcie umowy",
     "Zaopatrzenie w wodę i odprowadzanie ścieków albo sprzedaż ciepła.",
     ["Dane wnioskodawcy (imię i nazwisko lub nazwa, PESEL lub NIP)", "Adres nieruchomości",
      "Tytuł prawny do nieruchomości", "Rodzaj usługi", "Adres do korespondencji"]),
    ("demo:form-transfer", DocumentCategory.FORM, "Wniosek o przeniesienie umowy na nowego właściciela",
     "Sprzedaż lub najem nieruchomości: odczyt z dnia przekazania.",
     ["Dotychczasowy odbiorca", "Nowy odbiorca", "Adres nieruchomości", "Data przekazania",
      "Stan wodomierza lub ciepłomierza w dniu przekazania"]),
    ("demo:form-termination", DocumentCategory.FORM, "Wniosek o rozwiązanie umowy",
     "Z odczytem końcowym i adresem do przesłania rozliczenia.",
     ["Numer odbiorcy", "Numer umowy", "Adres nieruchomości", "Data rozwiązania", "Adres do rozliczenia końcowego"]),
    ("demo:form-complaint", DocumentCategory.FORM, "Reklamacja",
     "Rozliczenie, odczyt, jakość wody lub dostawa ciepła.",
     ["Numer odbiorcy", "Numer faktury (jeśli dotyczy)", "Opis sprawy", "Oczekiwany sposób załatwienia",
      "Sposób odpowiedzi: e-mail, list, iBOK"]),
    ("demo:form-submeter", DocumentCategory.FORM, "Wniosek o montaż wodomierza dodatkowego (ogrodowego)",
     "Woda do podlewania ogrodu nie jest odprowadzana do kanalizacji.",
     ["Numer odbiorcy", "Adres nieruchomości", "Miejsce montażu", "Proponowany termin odbioru"]),
    ("demo:form-reading", DocumentCategory.FORM, "Zgłoszenie odczytu wodomierza",
     "Gdy nie można podać odczytu w iBOK.",
     ["Numer odbiorcy", "Numer wodomierza", "Data odczytu", "Stan wodomierza (m³)"]),
    ("demo:tariff-water", DocumentCategory.TARIFF,
     "Taryfa dla zbiorowego zaopatrzenia w wodę i zbiorowego odprowadzania ścieków",
     "Ceny i opłaty zatwierdzone przez Wody Polskie.",
     ["Grupy taryfowe", "Cena wody (zł/m³)", "Cena odprowadzania ścieków (zł/m³)", "Opłata abonamentowa"]),
    ("demo:tariff-heat", DocumentCategory.TARIFF, "Taryfa dla ciepła",
     "Ceny i stawki opłat zatwierdzone przez Prezesa URE.",
     ["Grupy taryfowe", "Cena ciepła (zł/GJ)", "Cena mocy zamówionej (zł/MW/miesiąc)", "Stawki opłat przesyłowych"]),
]  # fmt: skip
EINVOICE_FORMS = {
    "request": "demo:form-einvoice-request",
    "address-change": "demo:form-einvoice-address",
    "resignation": "demo:form-einvoice-resignation",
}

_PAGE = Template("""<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8"><style>
@font-face { font-family: "IBOK Sans"; src: url("{{ font_dir }}/DejaVuSans.ttf"); }
@font-face { font-family: "IBOK Sans"; src: url("{{ font_dir }}/DejaVuSans-Bold.ttf"); font-weight: 700; }
@page { size: A4; margin: 18mm 20mm; }
body { font-family: "IBOK Sans", sans-serif; font-size: 10pt; line-height: 1.5; }
.field { border-bottom: 1px solid #666; height: 9mm; margin: 0 0 3mm; }
.label { font-size: 8pt; color: #444; }
</style></head><body>
<p class="label">{{ utility }}, {{ address }}</p>
<h1>{{ title }}</h1>
{% if lines %}{% for line in lines %}<p>{{ line }}</p>{% endfor %}{% endif %}
{% for point in points %}<div class="label">{{ point }}</div><div class="field"></div>{% endfor %}
{% if points %}<p class="label">Data i podpis</p><div class="field"></div>{% endif %}
</body></html>""")


def _pdf(title: str, *, points: list[str] = (), lines: list[str] = ()) -> bytes:
    from weasyprint import HTML

    context = Context(
        {
            "title": title,
            "points": points,
            "lines": lines,
            "utility": settings.IBOK_UTILITY_NAME,
            "address": settings.IBOK_UTILITY_ADDRESS,
            "font_dir": FONT_DIR.as_uri(),
        }
    )
    return HTML(string=_PAGE.render(context), base_url=str(FONT_DIR)).write_pdf()


def _document(external_id: str, *, content: bytes, filename: str, **fields) -> Document:
    found = Document.objects.filter(external_id=external_id).first()
    if found:
        return found
    now = timezone.now()
    document = Document(external_id=external_id, original_name=filename, size=len(content), uploaded_at=now, **fields)
    document.file.save(filename, ContentFile(content), save=False)
    document.save()
    return document


def load_terms() -> TermsVersion:
    """Both demo versions of the terms; returns the one in force."""
    versions = []
    for version, published_at in TERMS_VERSIONS.items():
        texts = {language: demo_terms.terms_text(language, version=version) for language in ("pl", "en", "uk")}
        terms, _ = TermsVersion.objects.get_or_create(
            version=version,
            defaults={
                "title": texts["pl"][0],
                "body": texts["pl"][1],
                "title_en": texts["en"][0],
                "body_en": texts["en"][1],
                "title_uk": texts["uk"][0],
                "body_uk": texts["uk"][1],
                "published_at": published_at,
            },
        )
        versions.append(terms)
    return versions[-1]


def load_documents(*, customer: Customer) -> int:
    """The public forms and tariffs, and the customer's contracts and a letter. Returns how many there are."""
    published = datetime(2026, 1, 2, tzinfo=UTC)
    documents = []
    for kind, external_id in EINVOICE_FORMS.items():
        spec = einvoice_pdf.FORMS[kind]
        documents.append(
            _document(
                external_id,
                content=einvoice_pdf.render_form(kind=kind),
                filename=spec.filename,
                title=spec.title,
                category=DocumentCategory.FORM,
                published_at=published,
            )
        )
    for external_id, category, title, description, points in FORMS:
        documents.append(
            _document(
                external_id,
                content=_pdf(title, points=points),
                filename=external_id.removeprefix("demo:") + ".pdf",
                title=title,
                description=description,
                category=category,
                version="2026" if category == DocumentCategory.TARIFF else "",
                published_at=published,
            )
        )
    for contract in customer.contracts.order_by("signed_date", "id"):
        title = f"Umowa nr {contract.number}"
        documents.append(
            _document(
                f"demo:contract-{contract.external_id or contract.pk}",
                content=_pdf(
                    title, lines=[f"Odbiorca: {customer.number} {customer.name}", f"Zawarta {contract.signed_date}."]
                ),
                filename=f"umowa-{contract.pk}.pdf",
                title=title,
                category=DocumentCategory.CONTRACT,
                customer=customer,
                published_at=datetime.combine(contract.signed_date, datetime.min.time(), tzinfo=UTC),
            )
        )
    letter = "Zawiadomienie o zmianie taryfy od 1 stycznia 2026 r."
    documents.append(
        _document(
            f"demo:letter-tariff-2026-{customer.pk}",
            content=_pdf(letter, lines=[f"Odbiorca {customer.number}: od 1 stycznia 2026 r. obowiązuje nowa taryfa."]),
            filename="zawiadomienie-taryfa-2026.pdf",
            title=letter,
            category=DocumentCategory.LETTER,
            customer=customer,
            published_at=datetime(2025, 12, 1, tzinfo=UTC),
        )
    )
    return len(documents)
