"""Balance and invoices: billing.selectors under the pages' Scope."""

from datetime import date, datetime
from decimal import Decimal

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from accounts.permissions import request_scope
from api.common import Money, money, paginate
from billing import pdf
from billing import selectors as billing
from billing import services as billing_services
from billing.models import Invoice, InvoiceStatus
from core import versions

router = Router(tags=["billing"])


class InvoiceOut(Schema):
    id: int
    number: str
    kind: str
    customer_id: int
    delivery_point_id: int | None
    issue_date: date
    due_date: date
    period_start: date | None
    period_end: date | None
    gross: Money
    outstanding: Money
    status: str
    payment_in_progress: bool
    ksef_number: str


class InvoiceLineOut(Schema):
    position: int
    description: str
    quantity: str
    unit: str
    unit_price_net: Money
    net: Money
    vat_rate: str
    vat: Money
    gross: Money


class VatRowOut(Schema):
    rate: str
    net: Money
    vat: Money
    gross: Money


class InvoiceDetailOut(InvoiceOut):
    net: Money
    vat: Money
    lines: list[InvoiceLineOut]
    vat_summary: list[VatRowOut]


class InvoicePage(Schema):
    count: int
    page: int
    pages: int
    results: list[InvoiceOut]


class BalanceOut(Schema):
    customer_id: int
    balance: Money
    overdue: Money
    as_of: datetime | None
    data_as_of: datetime | None


class InvoiceFilters(Schema):
    customer_id: int | None = None
    status: InvoiceStatus | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    page: int = 1


def invoice_out(invoice: Invoice, today: date) -> dict:
    return {
        "id": invoice.pk, "number": invoice.number, "kind": invoice.kind, "customer_id": invoice.customer_id,
        "delivery_point_id": invoice.delivery_point_id, "issue_date": invoice.issue_date,
        "due_date": invoice.due_date, "period_start": invoice.period_start, "period_end": invoice.period_end,
        "gross": money(invoice.gross), "outstanding": money(invoice.outstanding),
        "status": invoice.status_on(today), "payment_in_progress": invoice.payment_in_progress,
        "ksef_number": invoice.ksef_number,
    }  # fmt: skip


@router.get(
    "/customers/{customer_id}/balance",
    response={200: BalanceOut, 304: None},
    summary="What the customer owes, with the time the data is as of; ETag for polling (304 when unchanged)",
)
def balance(request: HttpRequest, customer_id: int, response: HttpResponse):
    scope = request_scope(request)
    if customer_id not in scope.full_customer_ids:
        raise Http404  # one answer for "missing" and "not yours"; a partial manager sees no whole-customer balance
    last_sync = billing.last_successful_sync()
    # The customer's data version (core.versions) moves with every write to their data: an unchanged version and
    # sync answer 304 without reading the balance.
    etag = f'"{customer_id}-{versions.version_of([customer_id])}-{last_sync.pk if last_sync else 0}"'
    if request.headers.get("If-None-Match") == etag:
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = etag
        return not_modified
    customer = next(c for c in billing.customers_with_balance(scope=scope.only(customer_id)) if c.pk == customer_id)
    row = getattr(customer, "balance", None)
    response["ETag"] = etag
    return {
        "customer_id": customer.pk,
        "balance": money(row.balance if row else Decimal("0")),
        "overdue": money(row.overdue if row else Decimal("0")),
        "as_of": row.as_of if row else None,
        "data_as_of": last_sync.finished_at if last_sync else None,
    }


@router.get("/invoices", response=InvoicePage, summary="Invoices, corrections and interest notes, the latest first")
def invoices(request: HttpRequest, filters: Query[InvoiceFilters]):
    today = timezone.localdate()
    listed = billing.invoice_list(
        scope=request_scope(request), today=today, status=filters.status or "", customer_id=filters.customer_id,
        issued_from=filters.issued_from, issued_to=filters.issued_to,
    )  # fmt: skip
    return paginate(listed, filters.page, lambda invoice: invoice_out(invoice, today))


def _invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    return billing.access_invoice(request_scope(request), invoice_id)  # Http404: missing and not yours alike


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut, summary="One invoice with its lines and VAT")
def invoice(request: HttpRequest, invoice_id: int):
    invoice = _invoice(request, invoice_id)
    lines = list(invoice.lines.all())
    return {
        **invoice_out(invoice, timezone.localdate()),
        "net": money(invoice.net), "vat": money(invoice.vat),
        "lines": [
            {"position": line.position, "description": line.description, "quantity": f"{line.quantity}",
             "unit": line.unit, "unit_price_net": money(line.unit_price_net), "net": money(line.net),
             "vat_rate": line.vat_rate, "vat": money(line.vat), "gross": money(line.gross)}
            for line in lines
        ],
        "vat_summary": [
            {"rate": row.rate, "net": money(row.net), "vat": money(row.vat), "gross": money(row.gross)}
            for row in pdf.vat_summary(lines)
        ],
    }  # fmt: skip


@router.get("/invoices/{invoice_id}/pdf", response={200: bytes}, summary="The invoice's PDF, the bytes the page serves")
def invoice_pdf(request: HttpRequest, invoice_id: int):
    invoice = _invoice(request, invoice_id)
    name = billing_services.invoice_pdf_ensure(invoice=invoice)
    filename = invoice.number.replace("/", "_") + ".pdf"
    return FileResponse(default_storage.open(name, "rb"), filename=filename, content_type="application/pdf")
