"""The JSON API, version 1 (docs/api.md): the same authorization rule as the pages (accounts.permissions' Scope,
read once per request), typed schemas from which django-ninja generates the OpenAPI 3.1 document."""

import math
from datetime import date, datetime
from decimal import Decimal

from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Schema
from ninja.security import HttpBearer, django_auth
from ninja.throttling import AuthRateThrottle

from accounts.permissions import request_scope
from api import problems, services
from billing import pdf
from billing import selectors as billing
from billing import services as billing_services
from billing.models import Invoice, InvoiceStatus
from core import versions
from meters import selectors as meters
from meters import services as meter_services

PAGE_SIZE = 50


class TokenAuth(HttpBearer):
    """A personal access token (api.services): the request acts as the token's user."""

    openapi_description = "A personal access token made on the settings page: Authorization: Bearer ibok_pat_…"

    def authenticate(self, request: HttpRequest, token: str):
        try:
            row = services.token_check(token=token, now=timezone.now())
        except services.TokenRejected:
            return None
        request.user = row.user
        request.api_token = row
        return row


class PerTokenThrottle(AuthRateThrottle):
    """Limits each token (or signed-in user) on its own; the answer says when to come back (Retry-After)."""

    def get_cache_key(self, request: HttpRequest) -> str:
        auth = getattr(request, "auth", None)
        ident = f"token-{auth.pk}" if hasattr(auth, "token_hash") else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


api = NinjaAPI(
    title="iBOK API",
    version="1.0.0",
    description="The customer portal's data for the utility's mobile app and for integrators (docs/api.md).",
    urls_namespace="api-v1",
    auth=[TokenAuth(), django_auth],
    throttle=[PerTokenThrottle("120/m")],
    docs_url="/docs",
    openapi_url="/openapi.json",
)
problems.install(api)
api.add_router("", "api.readings_photo.router")  # the self-reading with a photo (api/readings_photo.py)


def require_write(request: HttpRequest) -> None:
    token = getattr(request, "api_token", None)
    if token is not None and not token.can_write:
        raise problems.Forbidden(_("This token may only read. Make one that may submit readings and cases."))


class Money(Schema):
    amount: str
    currency: str = "PLN"


def money(value: Decimal) -> Money:
    return Money(amount=f"{value:.2f}")


class CustomerOut(Schema):
    id: int
    number: str
    name: str
    access: str  # "full": acts as the customer; "partial": some delivery points only


class MeOut(Schema):
    username: str
    email: str
    customers: list[CustomerOut]


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


@api.get("/me", response=MeOut, summary="The signed-in user and the customers they may act for")
def me(request: HttpRequest):
    scope = request_scope(request)
    customers = scope.customers().order_by("number", "id")
    return {
        "username": request.user.username,
        "email": request.user.email,
        "customers": [
            {"id": c.pk, "number": c.number, "name": c.name,
             "access": "full" if c.pk in scope.full_customer_ids else "partial"}
            for c in customers
        ],
    }  # fmt: skip


@api.get(
    "/customers/{customer_id}/balance",
    response={200: BalanceOut, 304: None},
    summary="What the customer owes, with the time the data is as of; ETag for polling (304 when unchanged)",
)
def balance(request: HttpRequest, customer_id: int):
    scope = request_scope(request)
    if customer_id not in scope.full_customer_ids:
        raise Http404  # one answer for "missing" and "not yours"; a partial manager sees no whole-customer balance
    last_sync = billing.last_successful_sync()
    # The customer's data version (core.versions) moves with every write to their data: an unchanged version and
    # sync answer 304 without reading the balance.
    etag = f'"{customer_id}-{versions.version_of([customer_id])}-{last_sync.pk if last_sync else 0}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    customer = next(c for c in billing.customers_with_balance(scope=scope.only(customer_id)) if c.pk == customer_id)
    row = getattr(customer, "balance", None)
    body = {
        "customer_id": customer.pk,
        "balance": money(row.balance if row else Decimal("0")),
        "overdue": money(row.overdue if row else Decimal("0")),
        "as_of": row.as_of if row else None,
        "data_as_of": last_sync.finished_at if last_sync else None,
    }
    response = api.create_response(request, BalanceOut(**body).model_dump(mode="json"), status=200)
    response["ETag"] = etag
    return response


@api.get("/invoices", response=InvoicePage, summary="Invoices, corrections and interest notes, the latest first")
def invoices(request: HttpRequest, filters: Query[InvoiceFilters]):
    today = timezone.localdate()
    listed = billing.invoice_list(
        scope=request_scope(request), today=today, status=filters.status or "", customer_id=filters.customer_id,
        issued_from=filters.issued_from, issued_to=filters.issued_to,
    )  # fmt: skip
    paginator = Paginator(listed, PAGE_SIZE)
    number = min(max(filters.page, 1), max(paginator.num_pages, 1))
    page = paginator.page(number)
    return {
        "count": paginator.count,
        "page": number,
        "pages": max(math.ceil(paginator.count / PAGE_SIZE), 1),
        "results": [invoice_out(invoice, today) for invoice in page.object_list],
    }


def _invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    return billing.access_invoice(request_scope(request), invoice_id)  # Http404: missing and not yours alike


@api.get("/invoices/{invoice_id}", response=InvoiceDetailOut, summary="One invoice with its lines and VAT")
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


@api.get("/invoices/{invoice_id}/pdf", response={200: bytes}, summary="The invoice's PDF, the bytes the page serves")
def invoice_pdf(request: HttpRequest, invoice_id: int):
    invoice = _invoice(request, invoice_id)
    name = billing_services.invoice_pdf_ensure(invoice=invoice)
    filename = invoice.number.replace("/", "_") + ".pdf"
    return FileResponse(default_storage.open(name, "rb"), filename=filename, content_type="application/pdf")


class ReadingIn(Schema):
    value: Decimal
    confirm_unusual: bool = False  # the page's "yes, the value is right" for an unusually high reading


class ReadingOut(Schema):
    portal_reference: str
    meter_id: int
    read_date: date
    value: str
    status: str


@api.post(
    "/meters/{meter_id}/readings",
    response={201: ReadingOut},
    summary="Submit a self-reading, validated as on the page (window, previous value, unusual use)",
)
def reading_submit(request: HttpRequest, meter_id: int, reading: ReadingIn):
    require_write(request)
    meter = meters.access_meter(request_scope(request), meter_id)
    try:
        saved = meter_services.self_reading_submit(
            meter=meter, value=reading.value, now=timezone.now(), user=request.user,
            confirmed_jump=reading.confirm_unusual,
        )  # fmt: skip
    except meter_services.ReadingRejected as exc:
        raise problems.HttpError(422, str(exc)) from None
    return 201, {
        "portal_reference": saved.portal_reference, "meter_id": meter.pk, "read_date": saved.read_date,
        "value": f"{saved.value:.3f}", "status": saved.status,
    }  # fmt: skip
