"""The terms in every version (issue 19): listed in Documents with the one in force marked, each a PDF, translated
terms for English and Ukrainian readers; the demo fills the terms, the forms and a customer's own documents."""

import subprocess
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Consent, ConsentKind, TermsVersion
from demo import documents as demo_documents
from notices.models import Document, DocumentCategory

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(db):
    now = timezone.now()
    return {
        "old": TermsVersion.objects.create(
            version="2024-06", title="Regulamin iBOK", body="§ 1. Stara treść.", published_at=now - timedelta(days=900)
        ),
        "current": TermsVersion.objects.create(
            version="2026-02",
            title="Regulamin iBOK",
            body="§ 1. Treść obowiązująca.",
            title_en="iBOK terms",
            body_en="§ 1. The text in force.",
            published_at=now - timedelta(days=30),
        ),
        "future": TermsVersion.objects.create(
            version="2027-01", title="Regulamin iBOK", body="§ 1. Przyszła.", published_at=now + timedelta(days=14)
        ),
    }


def test_documents_lists_every_published_version_with_the_one_in_force_marked(client, customer_user, versions):
    Consent.objects.create(
        user=customer_user, kind=ConsentKind.TERMS, terms_version=versions["current"], recorded_at=timezone.now()
    )
    client.force_login(customer_user)

    html = client.get(reverse("notices:documents")).content.decode()

    assert "Regulamin iBOK" in html
    assert html.count('href="/terms/2026-02.pdf"') == 1 and html.count('href="/terms/2024-06.pdf"') == 1
    assert "2027-01" not in html  # not in force yet
    in_force = html.index('<span class="badge badge--paid">obowiązuje</span>')
    assert html.index("2026-02") < in_force < html.index("2024-06")


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "terms.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_each_version_downloads_as_a_pdf_in_the_readers_language(client, versions, tmp_path):
    polish = client.get(reverse("accounts:terms-pdf", kwargs={"version": "2024-06"}))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("accounts:terms-pdf", kwargs={"version": "2026-02"}))

    assert polish["Content-Type"] == "application/pdf"
    assert polish["Content-Disposition"] == 'attachment; filename="regulamin-ibok-2024-06.pdf"'
    assert "Stara treść" in text_of(polish.content, tmp_path)
    english_text = text_of(english.content, tmp_path)
    assert "The text in force." in english_text and "the Polish text of the terms is binding" in english_text
    assert client.get(reverse("accounts:terms-pdf", kwargs={"version": "2027-01"})).status_code == 404


def test_the_terms_page_shows_the_translation_or_the_polish_and_any_earlier_version(client, versions):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("accounts:terms")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
    ukrainian = client.get(reverse("accounts:terms")).content.decode()  # no Ukrainian text in this version
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pl"
    old = client.get(reverse("accounts:terms"), {"version": "2024-06"}).content.decode()

    assert "The text in force." in english and "the Polish text of the terms is binding" in english
    assert "Treść obowiązująca." in ukrainian and 'lang="pl"' in ukrainian
    assert "Stara treść." in old and "Wcześniejsza wersja, już nieobowiązująca." in old
    assert client.get(reverse("accounts:terms"), {"version": "2027-01"}).status_code == 404


def test_the_demo_fills_the_terms_the_forms_and_the_customers_own_documents(customer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    factories_contract = customer.contracts.get()

    current = demo_documents.load_terms()
    count = demo_documents.load_documents(customer=customer)
    again = demo_documents.load_documents(customer=customer)  # safe to run again: nothing new

    assert current.version == "2026-02" and TermsVersion.objects.count() == 2
    for language, words in {
        "pl": ["Rejestracja", "Bezpieczeństwo", "Reklamacje", "Dane osobowe", "RODO", "E-faktura", "KSeF"],
        "en": ["Registration", "Security", "Complaints", "Personal data", "GDPR", "E-invoices", "KSeF"],
        "uk": ["Реєстрація", "Безпека", "Скарги", "Персональні дані", "GDPR", "Е-рахунок", "KSeF"],
    }.items():
        title, body, text_language = current.translated(language)
        assert text_language == language and title
        assert all(word in body for word in words), language
        assert settings.IBOK_UTILITY_NAME in body
    old = TermsVersion.objects.get(version="2024-06")
    assert "KSeF" not in old.body and "KSeF" not in old.body_uk
    assert count == again == Document.objects.count()
    forms = set(Document.objects.filter(category=DocumentCategory.FORM).values_list("title", flat=True))
    assert {
        "Wniosek o przesyłanie faktur i innej korespondencji drogą elektroniczną",
        "Wniosek o zmianę adresu e-mail do przesyłania e-faktur",
        "Rezygnacja z przesyłania faktur i korespondencji drogą elektroniczną",
        "Wniosek o zmianę danych odbiorcy lub adresu do korespondencji",
        "Reklamacja",
    } <= forms
    own = Document.objects.filter(customer=customer)
    assert set(own.values_list("category", flat=True)) == {DocumentCategory.CONTRACT, DocumentCategory.LETTER}
    assert own.filter(title=f"Umowa nr {factories_contract.number}").exists()
    assert all(document.file.read(4) == b"%PDF" for document in Document.objects.all())
