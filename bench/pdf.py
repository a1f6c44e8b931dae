"""Invoice PDF: the first render (WeasyPrint, then stored) and the cached download through the access-checked view.

    .venv/bin/python bench/pdf.py [--invoices 10] [--downloads 50] [--bare 10]

Uses the database in DATABASE_URL (default: ibok_billing) inside a transaction that is rolled back, and a
throw-away media folder. Prints the cold first render (fonts and stylesheet loaded), warm first renders of other
invoices (render and store), and the download of an already stored PDF (session, access check, streaming from
storage), median and p95; beside them, in the same run, a bare WeasyPrint page (a heading, a paragraph and a QR
code, WeasyPrint's defaults) as the reference, and the warm render's ratio to it. The machine is shared: read the
ratio, and the load average printed with it.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibok.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok_billing")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ["IBOK_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="ibok-bench-pdf-")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def make_invoices(count: int):
    from django.utils import timezone

    from accounts import setup
    from accounts.models import Contract, Customer, DeliveryPoint, User
    from billing.models import Invoice, InvoiceLine

    now = timezone.now()
    customer = Customer.objects.create(
        external_id="BENCH-PDF", source_updated_at=now, number="BENCH-PDF-1", kind="PERSON",
        name="Zofia Łęczycka-Wójcik", street="ul. Źródlana", building="7", apartment="12", postal_code="37-700",
        city="Przemyśl", bank_account="61109010140000071219812874",
    )  # fmt: skip
    contract = Contract.objects.create(
        external_id="BENCH-PDF-U", source_updated_at=now, customer=customer, number="BENCH/U/1", kind="WATER_SEWAGE",
        signed_date=date(2021, 3, 15), valid_from=date(2021, 4, 1),
    )  # fmt: skip
    point = DeliveryPoint.objects.create(
        external_id="BENCH-PDF-P", source_updated_at=now, customer=customer, contract=contract, code="BENCH-PO-1",
        service="WATER", tariff_group="W1", street="ul. Źródlana", building="7", apartment="12",
        postal_code="37-700", city="Przemyśl",
    )  # fmt: skip
    user = User.objects.create(username="bench-pdf-user", email="bench@example.pl")
    setup.owner_access_ensure(user=user, customer=customer, now=now)
    lines = [
        ("Dostawa wody", Decimal("24.300"), "m³", Decimal("5.5500"), "8"),
        ("Odprowadzanie ścieków", Decimal("24.300"), "m³", Decimal("4.8700"), "8"),
        ("Opłata abonamentowa", Decimal("2.000"), "szt.", Decimal("4.7650"), "8"),
    ]
    invoices = []
    for n in range(count):
        issued = date(2026, 11, 5) - timedelta(days=61 * n)
        invoice = Invoice(
            external_id=f"BENCH-PDF-F{n}", source_updated_at=now, customer=customer, delivery_point=point,
            number=f"FV/BENCH/{n:04d}", issue_date=issued, due_date=issued + timedelta(days=14),
            period_start=issued - timedelta(days=61), period_end=issued, net=Decimal(0), vat=Decimal(0),
            gross=Decimal(0), outstanding=Decimal(0), ksef_number=f"7952345678-{issued:%Y%m%d}-0A1B2C3D4E5F-{n:02d}",
            ksef_hash="47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
        )  # fmt: skip
        rows = []
        for position, (text, quantity, unit, price, rate) in enumerate(lines, start=1):
            net = (quantity * price).quantize(Decimal("0.01"))
            vat = (net * Decimal(rate) / 100).quantize(Decimal("0.01"))
            rows.append(
                InvoiceLine(
                    position=position, description=text, quantity=quantity, unit=unit, unit_price_net=price,
                    net=net, vat_rate=rate, vat=vat, gross=net + vat,
                )
            )  # fmt: skip
        invoice.net = sum(r.net for r in rows)
        invoice.vat = sum(r.vat for r in rows)
        invoice.gross = invoice.outstanding = invoice.net + invoice.vat
        invoice.save()
        for row in rows:
            row.invoice = invoice
        InvoiceLine.objects.bulk_create(rows)
        invoices.append(invoice)
    return user, invoices


def bare_page_render() -> tuple[float, float]:
    """Seconds (wall, CPU of this process) to render the reference: one page, a heading, a paragraph and a QR
    code, all WeasyPrint defaults."""
    from weasyprint import HTML

    from billing import qr

    code = qr.svg_data_uri("https://qr-test.ksef.mf.gov.pl/invoice/7952345678/05-11-2026/" + "A" * 43, scale=3)
    html = f'<h1>Faktura VAT</h1><p>Zażółć gęślą jaźń: 283,75 zł.</p><img src="{code}" style="width:30mm">'
    started, cpu = time.perf_counter(), time.process_time()
    HTML(string=html).write_pdf()
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10)
    parser.add_argument("--downloads", type=int, default=50)
    parser.add_argument("--bare", type=int, default=10, help="renders of the bare reference page")
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse

    from billing import services

    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()
    bare_page_render()  # WeasyPrint's own stylesheets and fonts loaded before either is timed
    with transaction.atomic():
        user, invoices = make_invoices(args.invoices)
        renders = []
        bare = []
        size = 0
        for n, invoice in enumerate(invoices):
            started, cpu = time.perf_counter(), time.process_time()
            name = services.invoice_pdf_ensure(invoice=invoice)
            renders.append((time.perf_counter() - started, time.process_time() - cpu))
            size = invoice.pdf.size
            if n and len(bare) < args.bare:
                bare.append(bare_page_render())  # interleaved, so both see the same machine
        while len(bare) < args.bare:
            bare.append(bare_page_render())
        client = Client()
        client.force_login(user)
        url = reverse("billing:invoice-pdf", kwargs={"invoice_id": invoices[0].pk})
        downloads = []
        for _ in range(args.downloads):
            started = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content)
            downloads.append(time.perf_counter() - started)
            assert response.status_code == 200 and body.startswith(b"%PDF-"), response.status_code
        transaction.set_rollback(True)

    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} after (1/5/15 min); PDF {size / 1024:.0f} KiB ({name})"
    )
    reference = statistics.median(wall for wall, _cpu in bare)
    reference_cpu = statistics.median(cpu for _wall, cpu in bare)
    print("                                      wall          CPU of the process")
    print(
        f"bare WeasyPrint page (median of {len(bare)}):  {reference * 1000:7.0f} ms   {reference_cpu * 1000:7.0f} ms"
        "   (reference)"
    )
    print(f"first render, cold (fonts loaded):   {renders[0][0] * 1000:7.0f} ms   {renders[0][1] * 1000:7.0f} ms")
    if len(renders) > 1:
        warm = [wall for wall, _cpu in renders[1:]]
        warm_cpu = statistics.median(cpu for _wall, cpu in renders[1:])
        median = statistics.median(warm)
        print(
            f"first render, warm (median of {len(warm)}):   {median * 1000:7.0f} ms   {warm_cpu * 1000:7.0f} ms"
            f"   ratio to the bare page {median / reference:.2f} (wall), {warm_cpu / reference_cpu:.2f} (CPU);"
            f" wall p95 {percentile(warm, 0.95) * 1000:.0f} ms"
        )
    print(
        f"cached download (median of {len(downloads)}):   {statistics.median(downloads) * 1000:7.1f} ms"
        f"   p95 {percentile(downloads, 0.95) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
