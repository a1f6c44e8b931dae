"""The invoice PDF: looks like the utility's invoice, rendered once and stored; the billing system's PDF as it came."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.urls import reverse

from billing import pdf, qr
from tests import factories

pytestmark = pytest.mark.django_db

KSEF_HASH = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"


@pytest.fixture
def invoice(customer, point):
    customer.bank_account = "61109010140000071219812874"  # a valid NRB (the factories' are not)
    customer.save()
    invoice = factories.InvoiceFactory(
        customer=customer,
        delivery_point=point,
        number="FV/02291/11/2026",
        issue_date=date(2026, 11, 5),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 11, 1),
        net=Decimal("253.21"),
        vat=Decimal("20.26"),
        gross=Decimal("273.47"),
        ksef_number="7952345678-20261105-0A1B2C3D4E5F-7A",
        ksef_hash=KSEF_HASH,
    )
    factories.InvoiceLineFactory(
        invoice=invoice, position=1, description="Dostawa wody", quantity=Decimal("24.300"),
        unit_price_net=Decimal("5.5500"), net=Decimal("134.87"), vat=Decimal("10.79"), gross=Decimal("145.66"),
    )  # fmt: skip
    factories.InvoiceLineFactory(
        invoice=invoice, position=2, description="Odprowadzanie ścieków", quantity=Decimal("24.300"),
        unit_price_net=Decimal("4.8700"), net=Decimal("118.34"), vat=Decimal("9.47"), gross=Decimal("127.81"),
    )  # fmt: skip
    return invoice


def test_the_invoice_document_has_what_a_polish_invoice_must_show(invoice, settings):
    html = render_to_string("billing/pdf/invoice.html", pdf.invoice_context(invoice))

    assert "Faktura VAT" in html
    assert "FV/02291/11/2026" in html
    assert settings.IBOK_UTILITY_NAME in html
    assert f"NIP {settings.IBOK_UTILITY_NIP}" in html
    assert invoice.customer.name in html
    assert invoice.delivery_point.code in html
    assert "01.10.2026 – 31.10.2026" in html  # period_end is exclusive: the last day is shown
    assert "19.11.2026" in html  # due date
    assert "dwieście siedemdziesiąt trzy zł 47/100" in html
    assert invoice.customer.bank_account_display in html
    assert "7952345678-20261105-0A1B2C3D4E5F-7A" in html
    assert html.count("data:image/png") == 2  # the transfer code and the KSeF code


def test_vat_summary_adds_up_per_rate():
    lines = [
        mock.Mock(vat_rate="8", net=Decimal("10.00"), vat=Decimal("0.80"), gross=Decimal("10.80")),
        mock.Mock(vat_rate="23", net=Decimal("100.00"), vat=Decimal("23.00"), gross=Decimal("123.00")),
        mock.Mock(vat_rate="8", net=Decimal("5.00"), vat=Decimal("0.40"), gross=Decimal("5.40")),
        mock.Mock(vat_rate="zw", net=Decimal("2.00"), vat=Decimal("0.00"), gross=Decimal("2.00")),
    ]

    rows = pdf.vat_summary(lines)

    assert [(r.rate_label, r.net, r.vat, r.gross) for r in rows] == [
        ("23%", Decimal("100.00"), Decimal("23.00"), Decimal("123.00")),
        ("8%", Decimal("15.00"), Decimal("1.20"), Decimal("16.20")),
        ("zw", Decimal("2.00"), Decimal("0.00"), Decimal("2.00")),
    ]


def test_transfer_code_follows_the_polish_banks_format():
    text = qr.transfer_text(
        recipient_nip="795-234-56-78",
        account="61109010140000071219812874",
        amount=Decimal("273.47"),
        recipient="Miejskie Przedsiębiorstwo Wodociągów i Ciepłownictwa",
        title="FV/02291/11/2026 nr odb. 100001 | extra",
    )

    assert text == (
        "7952345678|PL|61109010140000071219812874|027347|Miejskie Przedsiębio|FV/02291/11/2026 nr odb. 100001|||"
    )


def test_an_amount_too_large_for_the_code_is_left_for_the_payer():
    text = qr.transfer_text(
        recipient_nip="7952345678", account="6" * 26, amount=Decimal("12000.00"), recipient="X", title="T"
    )

    assert text.split("|")[3] == "000000"  # the field is required: zeros, the payer types the amount


def test_account_number_is_checked():
    assert qr.nrb_is_valid("61109010140000071219812874")
    assert not qr.nrb_is_valid("61109010140000071219812875")
    assert not qr.nrb_is_valid("6110901014")


def test_pdf_is_rendered_once_and_then_served_from_storage(client, customer_user, invoice):
    client.force_login(customer_user)
    url = reverse("billing:invoice-pdf", kwargs={"invoice_id": invoice.pk})

    with mock.patch("billing.pdf.render_invoice", wraps=pdf.render_invoice) as render:
        first = client.get(url)
        first_bytes = b"".join(first.streaming_content)
        second = client.get(url)
        second_bytes = b"".join(second.streaming_content)

    invoice.refresh_from_db()
    assert render.call_count == 1
    assert first["Content-Type"] == "application/pdf"
    assert first_bytes.startswith(b"%PDF-")
    assert second_bytes == first_bytes
    assert invoice.pdf.name.startswith("invoices/portal/2026/11/")


def test_a_pdf_from_the_billing_system_is_served_as_it_came(client, customer_user, invoice):
    original = b"%PDF-1.4 the billing system's own PDF"
    invoice.pdf.save("invoices/billing/FV_02291_11_2026.pdf", ContentFile(original))
    client.force_login(customer_user)

    with mock.patch("billing.pdf.render_invoice") as render:
        response = client.get(reverse("billing:invoice-pdf", kwargs={"invoice_id": invoice.pk}))

    assert b"".join(response.streaming_content) == original
    render.assert_not_called()


def test_a_correction_is_titled_and_names_the_corrected_invoice(customer, invoice):
    correction = factories.InvoiceFactory(
        customer=customer,
        kind="CORRECTION",
        corrected_invoice=invoice,
        number="FK/00012/11/2026",
        net=Decimal("-10.00"),
        vat=Decimal("-0.80"),
        gross=Decimal("-10.80"),
        outstanding=Decimal("0.00"),
    )

    html = render_to_string("billing/pdf/invoice.html", pdf.invoice_context(correction))

    assert "Faktura korygująca" in html
    assert "Korekta faktury nr FV/02291/11/2026" in html
    assert "Do zwrotu" in html


def test_the_render_task_stores_the_pdf_once_however_often_it_runs(invoice, django_capture_on_commit_callbacks):
    from billing import tasks

    with mock.patch("billing.pdf.render_invoice", wraps=pdf.render_invoice) as render:
        tasks.invoice_pdf_render.delay(invoice_id=invoice.pk)
        tasks.invoice_pdf_render.delay(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert render.call_count == 1
    assert invoice.pdf.name.endswith("FV_02291_11_2026.pdf")


def test_the_fetcher_serves_the_portals_static_files_and_data_uris_and_refuses_anything_else(tmp_path):
    fetcher = pdf.static_fetcher()

    font = fetcher.fetch((pdf.FONT_DIR / "DejaVuSans.ttf").as_uri())
    assert font.read() == (pdf.FONT_DIR / "DejaVuSans.ttf").read_bytes()
    inline = fetcher.fetch("data:image/svg+xml;charset=utf-8,%3Csvg%2F%3E")
    assert (inline.read(), inline.content_type) == (b"<svg/>", "image/svg+xml")
    outside = tmp_path / "secret.txt"
    outside.write_text("not the portal's")
    for url in (
        "https://example.com/logo.png",
        "http://127.0.0.1:9/x.css",
        "ftp://example.com/x",
        outside.as_uri(),
        (pdf.STATIC_DIR / ".." / "ibok" / "settings.py").as_uri(),  # .. out of the static folder
        (pdf.STATIC_DIR / "no-such-file.css").as_uri(),
    ):
        with pytest.raises(pdf.FetchRefused):
            fetcher.fetch(url)


def test_a_document_asking_for_a_network_url_is_not_rendered():
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    document = HTML(string='<img src="https://example.com/logo.png">', url_fetcher=pdf.static_fetcher())

    with (
        mock.patch("socket.create_connection", side_effect=AssertionError("network")) as connect,
        pytest.raises(FatalURLFetchingError),
    ):
        document.write_pdf()
    connect.assert_not_called()


def test_rendering_an_invoice_touches_no_network_and_builds_no_tls_context(invoice):
    import ssl

    from weasyprint.urls import URLFetcher

    pdf.render_invoice(invoice=invoice)  # the stylesheet, fonts and WeasyPrint's own sheets loaded

    with (
        mock.patch("socket.socket.connect", side_effect=AssertionError("network")) as connect,
        mock.patch.object(ssl.SSLContext, "load_default_certs", side_effect=AssertionError("TLS")) as tls,
    ):
        document = pdf.render_invoice(invoice=invoice)
        with pytest.raises(AssertionError, match="TLS"):
            URLFetcher()  # WeasyPrint's default fetcher, which every render used to build, is caught

    assert document.startswith(b"%PDF-")
    connect.assert_not_called()
    assert tls.call_count == 1  # the default fetcher's, above


def test_the_stylesheet_and_fonts_are_parsed_once_per_process_and_reused_by_every_render(invoice):
    import weasyprint
    from weasyprint import HTML
    from weasyprint.text import fonts

    pdf._shared.cache_clear()  # as in a fresh process
    with (
        mock.patch.object(weasyprint, "CSS", wraps=weasyprint.CSS) as css_parses,
        mock.patch.object(fonts, "FontConfiguration", wraps=fonts.FontConfiguration) as font_configurations,
        mock.patch.object(HTML, "write_pdf", autospec=True, side_effect=HTML.write_pdf) as write_pdf,
    ):
        first = pdf.render_invoice(invoice=invoice)
        second = pdf.render_invoice(invoice=invoice)

    assert css_parses.call_count == 1
    assert font_configurations.call_count == 1
    [(_, one), (_, two)] = [(c.args, c.kwargs) for c in write_pdf.call_args_list]
    assert one["stylesheets"][0] is two["stylesheets"][0]
    assert one["font_config"] is two["font_config"]
    assert first.startswith(b"%PDF-") and second.startswith(b"%PDF-")
