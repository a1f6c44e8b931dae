"""The transfer QR code (Związek Banków Polskich, "Rekomendacja ... standard 2D"), read back as a bank's app would.

NIP|country|account|amount in grosze (6 digits)|recipient (20)|title (32)|reserve|reserve|reserve, at
error-correction level L. The codes are decoded with zbar from the rendered PDF and from the transfer page.
"""

import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import pdf, qr
from tests import factories
from tests.billing.qrcodes import error_level, pdf_code, png_modules, svg_code, svg_modules

pytestmark = pytest.mark.django_db

ACCOUNT = "61109010140000071219812874"  # a valid NRB


@pytest.fixture
def household(customer):
    customer.number = "0100206"
    customer.bank_account = ACCOUNT
    customer.save()
    return customer


def an_invoice(customer, *, number: str, gross: Decimal):
    return factories.InvoiceFactory(
        customer=customer,
        delivery_point=customer.delivery_points.get(),
        number=number,
        issue_date=date(2026, 11, 5),
        net=gross,
        vat=Decimal("0.00"),
        gross=gross,
        outstanding=gross,
    )  # no KSeF number: the transfer code is the PDF's only code


def transfer_fields(code: str) -> list[str]:
    return code.split("|")


def pdf_text(document: bytes, folder) -> str:
    path = folder / "text.pdf"
    path.write_bytes(document)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return " ".join(text.split())


def test_the_invoice_pdfs_transfer_code_reads_back_field_by_field(household, settings, tmp_path):
    invoice = an_invoice(household, number="FV/002291/11/2026", gross=Decimal("273.47"))

    document = pdf.render_invoice(invoice=invoice)
    fields = transfer_fields(pdf_code(document, tmp_path))
    assert len(fields) == 9
    assert fields[0] == "7952345678"  # the recipient's NIP, digits only
    assert fields[1] == "PL"
    assert fields[2] == ACCOUNT
    assert fields[3] == "027347"  # grosze, six digits
    assert fields[4] == settings.IBOK_UTILITY_NAME[:20] == "Miejskie Przedsiębio"
    assert fields[5] == "FV/002291/11/2026 odb. 0100206"  # both numbers whole, within 32 characters
    assert fields[6:] == ["", "", ""]
    assert "FV/002291/11/2026 odb. 0100206" in pdf_text(document, tmp_path)  # the printed title is the coded one


def test_the_transfer_code_is_written_at_error_correction_level_l(household):
    invoice = an_invoice(household, number="FV/002291/11/2026", gross=Decimal("273.47"))

    context = pdf.invoice_context(invoice)

    assert context["transfer_qr"].startswith("data:image/png;base64,")
    assert error_level(png_modules(context["transfer_qr"])) == "L"


def test_an_amount_of_ten_thousand_or_more_is_left_to_the_payer_and_the_pdf_says_so(household, tmp_path):
    invoice = an_invoice(household, number="FV/002292/11/2026", gross=Decimal("12000.00"))

    document = pdf.render_invoice(invoice=invoice)
    fields = transfer_fields(pdf_code(document, tmp_path))

    assert fields[3] == "000000"  # required six digits; zero leaves the amount for the payer to type
    assert "Kod nie zawiera kwoty" in pdf_text(document, tmp_path)


def test_an_amount_just_below_ten_thousand_is_carried(household, tmp_path):
    invoice = an_invoice(household, number="FV/002293/11/2026", gross=Decimal("9999.99"))

    document = pdf.render_invoice(invoice=invoice)

    assert transfer_fields(pdf_code(document, tmp_path))[3] == "999999"
    assert "Kod nie zawiera kwoty" not in pdf_text(document, tmp_path)


@pytest.mark.parametrize(
    ("invoice_number", "customer_number", "title"),
    [
        ("FV/02291/11/2026", "100001", "FV/02291/11/2026 nr odb. 100001"),
        ("FV/02291/11/2026", "0100206", "FV/02291/11/2026 nr odb. 0100206"),
        ("FV/002291/11/2026", "0100206", "FV/002291/11/2026 odb. 0100206"),
        ("FV/2026/11/0000123/W", "0100206", "FV/2026/11/0000123/W 0100206"),
        ("FAKTURA/WODA/2026/11/000000000123", "0100206", "FAKTURA/WODA/2026/11/000000000123"[:32]),
        ("", "0100206", "Nr odbiorcy 0100206"),
        ("", "ODB-2026-000000000000000123", "ODB-2026-000000000000000123"),
    ],
)
def test_the_title_keeps_the_identifying_numbers_whole(invoice_number, customer_number, title):
    made = qr.transfer_title(invoice_number=invoice_number, customer_number=customer_number)

    assert made == title
    assert len(made) <= qr.TITLE_LENGTH


def test_a_title_never_cuts_a_number_that_fits():
    made = qr.transfer_title(invoice_number="FV/2026/11/0000123/W", customer_number="0100206")

    assert made.split() == ["FV/2026/11/0000123/W", "0100206"]


def test_the_transfer_pages_code_reads_back_field_by_field(client, household, customer_user, tmp_path):
    factories.CustomerBalanceFactory(customer=household, balance=Decimal("150.25"))
    client.force_login(customer_user)

    response = client.get(reverse("billing:transfer"))
    [account] = response.context["accounts"]
    fields = transfer_fields(svg_code(account["qr"], tmp_path))

    assert fields[:4] == ["7952345678", "PL", ACCOUNT, "015025"]
    assert fields[5] == "Nr odbiorcy 0100206"
    assert fields[6:] == ["", "", ""]
    assert error_level(svg_modules(account["qr"])) == "L"
    assert "Kod nie zawiera kwoty" not in response.content.decode()


def test_the_transfer_page_says_plainly_when_its_code_carries_no_amount(client, household, customer_user, tmp_path):
    factories.CustomerBalanceFactory(customer=household, balance=Decimal("15000.00"))
    client.force_login(customer_user)

    response = client.get(reverse("billing:transfer"))
    [account] = response.context["accounts"]

    assert transfer_fields(svg_code(account["qr"], tmp_path))[3] == "000000"
    assert "Kod nie zawiera kwoty" in response.content.decode()


def test_the_invoice_pdfs_ksef_code_reads_back_as_the_verification_link(household, tmp_path):
    household.bank_account = "61109010140000071219812875"  # a bad checksum: no transfer code, the KSeF code alone
    household.save()
    invoice = an_invoice(household, number="FV/002294/11/2026", gross=Decimal("273.47"))
    invoice.ksef_number = "7952345678-20261105-0A1B2C3D4E5F-7A"
    invoice.ksef_hash = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
    invoice.save()

    code = pdf_code(pdf.render_invoice(invoice=invoice), tmp_path)

    # KSeF 2.0's KOD I (tests/billing/test_ksef_codes.py holds the format to the Ministry's examples).
    assert code == (
        "https://qr.ksef.mf.gov.pl/invoice/7952345678/05-11-2026/47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
    )
