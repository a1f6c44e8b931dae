"""KSeF 2.0 verification codes (KOD I, KOD II) on the invoice page and PDF.

The expected links are the Ministry of Finance's own examples: github.com/CIRFMF/ksef-docs, kody-qr.md
(commit d92d285b928896258afdb27f7150f9127ee18ada, May 2026), sections "1. KOD I" and "2. KOD II".
"""

import hashlib
from datetime import date

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from billing import pdf, qr
from billing.models import Invoice
from tests import factories
from tests.billing.test_importer import base_batch, invoice
from tests.billing.test_setbased import load, wipe, write

pytestmark = pytest.mark.django_db

MF_HASH = "UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
MF_SIGNATURE = (
    "mSkm_XmM9fq7PgAJwiL32L9ujhyguOEV48cDB0ncemD2r9TMGa3lr0iRoFk588agCi8QPsOuscUY1rZ7ff76STbGquO-gZtQys5_fHdf2HUfDq"
    "PqVTnUS6HknBu0zLkyf9ygoW7WbH06Ty_8BgQTlOmJFzNWSt9WZa7tAGuAE9JOooNps-KG2PYkkIP4q4jPMp3FKypAygHVnXtS0RDGgOxhhM7LW"
    "tFP7D-dWINbh5yXD8Lr-JVbeOpyQjHa6WmMYavCDQJ3X_Z-iS01LZu2s1B3xuOykl1h0sLObCdADrbxOONsXrvQa61Xt_rxyprVraj2Uf9pANQg"
    "R4-12HEcMw"
)


def test_kod_i_is_the_ministrys_example():
    url = qr.ksef_verification_url(
        host="qr-test.ksef.mf.gov.pl", seller_nip="1111111111", issue_date=date(2026, 2, 1), ksef_hash=MF_HASH
    )

    assert (
        url
        == "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
    )


def test_kod_ii_is_the_ministrys_example():
    url = qr.ksef_certificate_url(
        host="qr-test.ksef.mf.gov.pl",
        context_type="Nip",
        context_id="1111111111",
        seller_nip="1111111111",
        serial="01F20A5D352AE590",
        ksef_hash=MF_HASH,
        signature=MF_SIGNATURE,
    )

    assert url == (
        "https://qr-test.ksef.mf.gov.pl/certificate/Nip/1111111111/1111111111/01F20A5D352AE590/"
        f"UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE/{MF_SIGNATURE}"
    )


def test_the_hash_is_the_sha256_of_the_xml_in_base64url_without_padding():
    xml = b"<Faktura/>"
    digest = hashlib.sha256(xml).digest()

    assert qr.invoice_xml_hash(b"") == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"  # SHA-256 of nothing
    assert qr.invoice_xml_hash(xml) == qr.base64url(__import__("base64").b64encode(digest).decode())
    assert qr.base64url("a+b/c==") == "a-b_c"  # a billing system sending plain Base64 still gives a valid link


@pytest.fixture
def invoices(customer, point):
    common = {"customer": customer, "delivery_point": point, "issue_date": date(2026, 11, 5), "ksef_hash": MF_HASH}
    return {
        "online": factories.InvoiceFactory(number="FV/1", ksef_number="7952345678-20261105-0A1B2C3D4E5F-7A", **common),
        "offline": factories.InvoiceFactory(
            number="FV/2",
            ksef_context_type="Nip",
            ksef_context_id="7952345678",
            ksef_certificate_serial="01F20A5D352AE590",
            ksef_certificate_signature=MF_SIGNATURE,
            **common,
        ),
        "before_ksef": factories.InvoiceFactory(
            number="FV/3", **{**common, "ksef_hash": "", "issue_date": date(2025, 5, 5)}
        ),
    }


def test_the_invoice_page_links_kod_i_with_the_number_or_offline_and_kod_ii(client, customer_user, invoices, settings):
    settings.IBOK_KSEF_QR_HOST = "qr-demo.ksef.mf.gov.pl"
    client.force_login(customer_user)

    def page(name):
        return client.get(reverse("billing:invoice-detail", kwargs={"invoice_id": invoices[name].pk})).content.decode()

    kod_i = f"https://qr-demo.ksef.mf.gov.pl/invoice/7952345678/05-11-2026/{MF_HASH}"
    online, offline, before = page("online"), page("offline"), page("before_ksef")
    assert f'<a href="{kod_i}" rel="noopener">7952345678-20261105-0A1B2C3D4E5F-7A</a>' in online
    assert "/certificate/" not in online
    assert f'<a href="{kod_i}" rel="noopener">OFFLINE</a>' in offline
    kod_ii = f"https://qr-demo.ksef.mf.gov.pl/certificate/Nip/7952345678/7952345678/01F20A5D352AE590/{MF_HASH}/"
    assert f'<a href="{kod_ii}{MF_SIGNATURE}" rel="noopener">CERTYFIKAT</a>' in offline
    assert "ksef.mf.gov.pl" not in before
    assert "client-app" not in online + offline  # the obsolete address


def test_the_pdf_prints_each_code_with_its_label(invoices, settings):
    settings.IBOK_KSEF_QR_HOST = "qr.ksef.mf.gov.pl"

    online = render_to_string("billing/pdf/invoice.html", pdf.invoice_context(invoices["online"]))
    offline = render_to_string("billing/pdf/invoice.html", pdf.invoice_context(invoices["offline"]))
    context = pdf.invoice_context(invoices["offline"])

    assert [code["label"] for code in context["ksef_codes"]] == ["OFFLINE", "CERTYFIKAT"]
    assert context["ksef_codes"][0]["url"].startswith("https://qr.ksef.mf.gov.pl/invoice/7952345678/05-11-2026/")
    assert online.count("Kod QR weryfikacji") == 1 and "7952345678-20261105-0A1B2C3D4E5F-7A" in online
    assert offline.count("Kod QR weryfikacji") == 2
    assert '<span class="ksef-number">OFFLINE</span>' in offline
    assert '<span class="ksef-number">CERTYFIKAT</span>' in offline
    assert "numer KSeF zostanie nadany" in offline


KOD_II = {
    "ksef_hash": MF_HASH,
    "ksef_context_type": "Nip",
    "ksef_context_id": "1111111111",
    "ksef_certificate_serial": "01F20A5D352AE590",
    "ksef_certificate_signature": MF_SIGNATURE,
}


@pytest.mark.django_db(transaction=True)
def test_the_import_accepts_kod_ii_whole_and_refuses_it_in_part_alike_in_python_and_sql(tmp_path):
    batch = base_batch()
    batch["invoices"] = [
        invoice(id="OK", number="OK", **KOD_II),
        invoice(id="NOHASH", number="NOHASH", **{**KOD_II, "ksef_hash": ""}),
        invoice(id="PART", number="PART", **{**KOD_II, "ksef_certificate_signature": ""}),
        invoice(id="TYPE", number="TYPE", **{**KOD_II, "ksef_context_type": "Pesel"}),
        invoice(id="SERIAL", number="SERIAL", **{**KOD_II, "ksef_certificate_serial": "not hex"}),
        invoice(id="NONE", number="NONE", ksef_hash=MF_HASH),
    ]
    folder = write(tmp_path / "batch", batch)

    python = load(folder, set_based=False, batch_size=5000)
    wipe()
    sql = load(folder, set_based=True, batch_size=5000)

    assert python == sql
    rejected = {error[2] for error in python[1] if error[0] == "invoices.jsonl"}
    assert rejected == {"NOHASH", "PART", "TYPE", "SERIAL"}
    loaded = Invoice.objects.get(external_id="OK")
    assert (loaded.ksef_certificate_serial, loaded.ksef_certificate_signature) == ("01F20A5D352AE590", MF_SIGNATURE)
    assert Invoice.objects.get(external_id="NONE").is_ksef_offline
