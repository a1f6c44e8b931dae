"""Balance and invoices: billing.selectors under the pages' Scope."""

import logging
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from getpaid.exceptions import CommunicationError
from ninja import Query, Router, Schema

from accounts.permissions import access_customer, request_scope
from api import problems
from api.common import (
    LocalDateTime,
    Money,
    conditional,
    form_invalid,
    money,
    paginate,
    require_write,
    with_headers,
)
from billing import forms as billing_forms
from billing import pdf, qr
from billing import selectors as billing
from billing import services as billing_services
from billing.models import Invoice, InvoiceStatus
from billing.payments.przelewy24 import PaymentProcessor

logger = logging.getLogger(__name__)

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
    as_of: LocalDateTime | None
    data_as_of: LocalDateTime | None


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
    not_modified, headers = conditional(request, [customer_id], extra=last_sync.pk if last_sync else 0)
    if not_modified:
        return not_modified
    with_headers(response, headers)
    customer = next(c for c in billing.customers_with_balance(scope=scope.only(customer_id)) if c.pk == customer_id)
    row = getattr(customer, "balance", None)
    return {
        "customer_id": customer.pk,
        "balance": money(row.balance if row else Decimal("0")),
        "overdue": money(row.overdue if row else Decimal("0")),
        "as_of": row.as_of if row else None,
        "data_as_of": last_sync.finished_at if last_sync else None,
    }


@router.get(
    "/invoices",
    response={200: InvoicePage, 304: None},
    summary="Invoices, corrections and interest notes, the latest first",
)
def invoices(request: HttpRequest, filters: Query[InvoiceFilters], response: HttpResponse):
    today = timezone.localdate()
    scope = request_scope(request)
    not_modified, headers = conditional(request, scope.customer_ids)
    if not_modified:
        return not_modified
    with_headers(response, headers)
    listed = billing.invoice_list(
        scope=scope, today=today, status=filters.status or "", customer_id=filters.customer_id,
        issued_from=filters.issued_from, issued_to=filters.issued_to,
    )  # fmt: skip
    return paginate(listed, filters.page, lambda invoice: invoice_out(invoice, today))


def _invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    return billing.access_invoice(request_scope(request), invoice_id)  # Http404: missing and not yours alike


@router.get(
    "/invoices/{invoice_id}", response={200: InvoiceDetailOut, 304: None}, summary="One invoice with its lines and VAT"
)
def invoice(request: HttpRequest, invoice_id: int, response: HttpResponse):
    invoice = _invoice(request, invoice_id)
    not_modified, headers = conditional(request, [invoice.customer_id])
    if not_modified:
        return not_modified
    with_headers(response, headers)
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


# --- settlements, payments, transfer details, online payments ----------------------------------------------------


class LedgerEntryOut(Schema):
    date: date
    kind: str  # an invoice kind or "PAYMENT"
    document: str
    description: str
    debit: Money
    credit: Money
    balance: Money
    invoice_id: int | None


class SettlementsOut(Schema):
    customer_id: int
    date_from: date
    date_to: date
    opening: Money
    closing: Money
    total_debit: Money
    total_credit: Money
    partial: bool  # a manager of some points: the documents of those points and what settled them only
    entries: list[LedgerEntryOut]


class PeriodFilters(Schema):
    date_from: date | None = None
    date_to: date | None = None


@router.get(
    "/customers/{customer_id}/settlements",
    response={200: SettlementsOut, 304: None},
    summary="The settlements page's ledger: documents and payments of a period with a running balance",
)
def settlements(request: HttpRequest, customer_id: int, period: Query[PeriodFilters], response: HttpResponse):
    scope = request_scope(request)
    customer = access_customer(scope, customer_id)
    start, end = billing_forms.default_period(timezone.localdate())
    form = billing_forms.PeriodForm(
        {"date_from": period.date_from or start, "date_to": period.date_to or end, "customer": customer.pk},
        customers=[customer],
    )
    if not form.is_valid():
        raise form_invalid(form)
    not_modified, headers = conditional(request, [customer.pk])
    if not_modified:
        return not_modified
    with_headers(response, headers)
    ledger = billing.ledger(
        scope=scope.everything(), customer=customer,
        date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"],
    )  # fmt: skip
    return {
        "customer_id": customer.pk, "date_from": ledger.date_from, "date_to": ledger.date_to,
        "opening": money(ledger.opening), "closing": money(ledger.closing),
        "total_debit": money(ledger.total_debit), "total_credit": money(ledger.total_credit),
        "partial": ledger.partial,
        "entries": [
            {"date": e.on, "kind": e.kind, "document": e.document, "description": e.description,
             "debit": money(e.debit), "credit": money(e.credit), "balance": money(e.balance),
             "invoice_id": e.invoice_id}
            for e in ledger.entries
        ],
    }  # fmt: skip


class AllocationOut(Schema):
    invoice_id: int
    invoice_number: str
    amount: Money


class PaymentOut(Schema):
    id: int
    customer_id: int
    paid_date: date
    amount: Money
    channel: str
    title: str
    settled: list[AllocationOut]  # what it paid, of the invoices the user may see


class PaymentPage(Schema):
    count: int
    page: int
    pages: int
    results: list[PaymentOut]


class PaymentFilters(Schema):
    customer_id: int | None = None
    page: int = 1


@router.get(
    "/payments",
    response={200: PaymentPage, 304: None},
    summary="Booked payments, the latest first, each with the invoices it settled",
)
def payments(request: HttpRequest, filters: Query[PaymentFilters], response: HttpResponse):
    scope = request_scope(request)
    not_modified, headers = conditional(request, scope.customer_ids)
    if not_modified:
        return not_modified
    with_headers(response, headers)
    listed = billing.payment_list(scope=scope, customer_id=filters.customer_id)
    return paginate(
        listed,
        filters.page,
        lambda p: {
            "id": p.pk, "customer_id": p.customer_id, "paid_date": p.paid_date, "amount": money(p.amount),
            "channel": p.channel, "title": p.title,
            "settled": [
                {"invoice_id": a.invoice_id, "invoice_number": a.invoice.number, "amount": money(a.amount)}
                for a in p.allocations.all()
            ],
        },
    )  # fmt: skip


class TransferOut(Schema):
    customer_id: int
    customer_number: str
    account_number: str  # the customer's individual account (NRB, 26 digits)
    account_valid: bool
    recipient: str
    recipient_address: str
    title: str
    to_pay: Money | None  # what a transfer should be; null: nothing to ask for
    qr_payload: str  # the text of the banks' transfer QR code the page shows ("" when the account is not valid)


@router.get(
    "/transfer",
    response={200: list[TransferOut], 304: None},
    summary="Transfer details per customer: the account number, the title and the transfer QR code's text",
)
def transfer(request: HttpRequest, response: HttpResponse):
    scope = request_scope(request)
    not_modified, headers = conditional(request, scope.customer_ids)
    if not_modified:
        return not_modified
    with_headers(response, headers)
    # A manager of some points pays for their points only: never the customer's whole saldo (as on the page).
    rows = []
    for row in billing.customer_money(scope=scope, today=timezone.localdate(), per_point=False):
        customer, to_pay = row.customer, row.to_pay
        valid = qr.nrb_is_valid(customer.bank_account)
        title = qr.transfer_title(customer_number=customer.number)
        payload = qr.transfer_text(
            recipient_nip=settings.IBOK_UTILITY_NIP, account=customer.bank_account, amount=to_pay,
            recipient=settings.IBOK_UTILITY_NAME, title=title,
        )  # fmt: skip
        rows.append(
            {
                "customer_id": customer.pk,
                "customer_number": customer.number,
                "account_number": customer.bank_account,
                "account_valid": valid,
                "recipient": settings.IBOK_UTILITY_NAME,
                "recipient_address": settings.IBOK_UTILITY_ADDRESS,
                "title": title,
                "to_pay": money(to_pay) if to_pay is not None else None,
                "qr_payload": payload if valid else "",
            }  # fmt: skip
        )
    return rows


class OnlinePaymentIn(Schema):
    invoice_ids: list[int]  # invoices of one customer, unpaid and not already being paid


class OnlinePaymentItemOut(Schema):
    invoice_id: int
    invoice_number: str
    amount: Money


class OnlinePaymentOut(Schema):
    reference: str
    customer_id: int
    amount: Money
    fee: Money
    total: Money
    created_at: LocalDateTime
    status: str  # STARTED: waiting for the broker; PAID: the broker confirmed it; BOOKED: the billing system too
    broker_status: str
    paid_at: LocalDateTime | None
    items: list[OnlinePaymentItemOut]


class OnlinePaymentStarted(Schema):
    reference: str
    redirect_url: str  # the broker's payment page: open it in a browser
    status_url: str


def payments_enabled() -> bool:
    """The payment page's switch: the broker is configured (or the sandbox broker is on)."""
    config = settings.GETPAID_BACKEND_SETTINGS.get(PaymentProcessor.slug, {})
    return bool(config.get("crc")) and (config.get("transport") == "sandbox" or bool(config.get("api_key")))


@router.post(
    "/payments/online",
    response={201: OnlinePaymentStarted},
    summary="Start an online payment of chosen invoices; answers with the broker's page to send the payer to",
)
def online_payment_start(request: HttpRequest, chosen: OnlinePaymentIn):
    require_write(request)
    scope = request_scope(request)
    payable = list(billing.invoices_payable(scope=scope))
    customers = [m.customer for m in billing.customer_money(scope=scope, today=timezone.localdate(), per_point=False)]
    # The payment page's form: the same choices (the user's payable invoices only) and the same messages.
    form = billing_forms.OnlinePaymentForm(
        {"invoices": [str(pk) for pk in chosen.invoice_ids]}, payable=payable, customers=customers
    )
    if not form.is_valid():
        raise form_invalid(form)
    if not payments_enabled():
        raise problems.HttpError(409, _("Online payments are switched off. Please pay by bank transfer."))
    try:
        broker_payment = billing_services.online_payment_start(
            user=request.user, customer=form.cleaned_data["customer_obj"], invoices=form.cleaned_data["invoice_objs"],
            amount=None, fee=settings.IBOK_PAYMENT_FEE, now=timezone.now(),
        )  # fmt: skip
    except billing_services.OnlinePaymentRefused as exc:
        raise problems.HttpError(422, str(exc)) from None
    try:
        redirect = broker_payment.prepare_transaction(
            request=request, email=broker_payment.order.payer_email, language=translation.get_language()
        )
    except CommunicationError:
        logger.exception("the payment broker refused or did not answer the registration")
        raise problems.HttpError(
            502, _("Przelewy24 did not accept the payment. Please try again later or pay by bank transfer.")
        ) from None
    reference = broker_payment.order.reference
    return 201, {
        "reference": reference,
        "redirect_url": redirect["Location"],
        "status_url": reverse("api-v1:online_payment", kwargs={"reference": reference}),
    }


@router.get(
    "/payments/online/{reference}",
    response=OnlinePaymentOut,
    summary="An online payment's status: waiting for the broker, paid, or booked by the billing system",
)
def online_payment(request: HttpRequest, reference: str):
    found = billing.access_online_payment(request_scope(request), reference)
    broker_payment = billing.broker_payment_for(online_payment=found)
    status = "BOOKED" if found.booked else "PAID" if found.paid_at else "STARTED"
    return {
        "reference": found.reference, "customer_id": found.customer_id, "amount": money(found.amount),
        "fee": money(found.fee), "total": money(found.total), "created_at": found.created_at, "status": status,
        "broker_status": broker_payment.status if broker_payment else "", "paid_at": found.paid_at,
        "items": [
            {"invoice_id": item.invoice_id, "invoice_number": item.invoice.number, "amount": money(item.amount)}
            for item in found.items.all()
        ],
    }  # fmt: skip


# --- the balance forecast and payment plans (issue 21) -----------------------------------------------------------


class ForecastPeriodOut(Schema):
    start: date
    end: date
    issue_date: date
    low: Money
    high: Money
    basis: str
    balance_low: Money
    balance_high: Money


class ForecastOut(Schema):
    customer_id: int
    available: bool
    rhythm_months: int | None = None
    basis: list[str] = []
    low: Money | None = None
    high: Money | None = None
    monthly_payment: Money | None = None
    periods: list[ForecastPeriodOut] = []


class ForecastFilters(Schema):
    monthly_payment: Decimal | None = None


@router.get(
    "/customers/{customer_id}/forecast",
    response=ForecastOut,
    summary="What the customer will owe over the next months, as a range with its basis in words (none without "
    "two invoices); monthly_payment recomputes the balance",
)
def forecast(request: HttpRequest, customer_id: int, what_if: Query[ForecastFilters]):
    from billing import forecast as billing_forecast  # noqa: PLC0415 - as the page does

    scope = request_scope(request)
    customer = access_customer(scope, customer_id)
    form = billing_forms.ForecastForm(
        {"monthly_payment": "" if what_if.monthly_payment is None else str(what_if.monthly_payment)}
    )
    if not form.is_valid():
        raise form_invalid(form)
    today = timezone.localdate()
    inputs = billing.forecast_inputs(scope=scope, customer=customer, today=today)
    payment = form.cleaned_data["monthly_payment"]
    result = billing_forecast.forecast(
        invoices=inputs.invoices,
        today=today,
        balance=inputs.balance,
        monthly_payment=inputs.average_payment if payment is None else payment,
    )
    if result is None:
        return {"customer_id": customer.pk, "available": False}
    return {
        "customer_id": customer.pk, "available": True, "rhythm_months": result.rhythm_months,
        "basis": result.basis, "low": money(result.low), "high": money(result.high),
        "monthly_payment": money(result.monthly_payment),
        "periods": [
            {"start": p.start, "end": p.end, "issue_date": p.issue_date, "low": money(p.low), "high": money(p.high),
             "basis": p.basis, "balance_low": money(p.balance_low), "balance_high": money(p.balance_high)}
            for p in result.periods
        ],
    }  # fmt: skip


class InstalmentOut(Schema):
    due_date: date
    amount: Money


class PaymentPlanRequestOut(Schema):
    reference: str
    customer_id: int
    created_at: LocalDateTime
    total: Money
    instalments: int
    status: str
    decision_note: str
    invoice_ids: list[int]


class PaymentPlanOut(Schema):
    id: str
    status: str
    total: Money
    schedule: list[InstalmentOut]


class PaymentPlansOut(Schema):
    requests: list[PaymentPlanRequestOut]
    plans: list[PaymentPlanOut]


class PaymentPlanRequestIn(Schema):
    invoice_ids: list[int]
    instalments: int


def _plan_customer(request: HttpRequest, customer_id: int):
    scope = request_scope(request)
    if customer_id not in scope.full_customer_ids:
        raise Http404  # only who acts for the whole customer may spread its debt
    return access_customer(scope, customer_id)


def _request_out(item) -> dict:
    return {
        "reference": item.reference, "customer_id": item.customer_id, "created_at": item.created_at,
        "total": money(item.total), "instalments": item.granted_instalments, "status": item.status,
        "decision_note": item.decision_note, "invoice_ids": [line.invoice_id for line in item.items.all()],
    }  # fmt: skip


@router.get(
    "/customers/{customer_id}/payment-plans",
    response=PaymentPlansOut,
    summary="The customer's payment plan requests (latest first) and the plans in force with their schedules",
)
def payment_plans(request: HttpRequest, customer_id: int):
    customer = _plan_customer(request, customer_id)
    return {
        "requests": [_request_out(item) for item in billing.payment_plan_requests_of(customer=customer)],
        "plans": [
            {"id": plan.external_id, "status": plan.status, "total": money(plan.total),
             "schedule": [{"due_date": i["due_date"], "amount": money(i["amount"])} for i in plan.instalments]}
            for plan in billing.active_payment_plans(customer_ids=[customer.pk])
        ],
    }  # fmt: skip


@router.post(
    "/customers/{customer_id}/payment-plans",
    response={201: PaymentPlanRequestOut},
    summary="Ask to pay overdue invoices in instalments (the page's limits and messages; one open request at a time)",
)
def payment_plan_request_submit(request: HttpRequest, customer_id: int, asked: PaymentPlanRequestIn):
    require_write(request)
    customer = _plan_customer(request, customer_id)
    overdue = billing.overdue_invoices(customer=customer, today=timezone.localdate())
    form = billing_forms.PaymentPlanForm(
        {"invoices": [str(pk) for pk in asked.invoice_ids], "instalments": str(asked.instalments)}, invoices=overdue
    )
    if not form.is_valid():
        raise form_invalid(form)
    try:
        created = billing_services.payment_plan_request_submit(
            now=timezone.now(), customer=customer, user=request.user, invoices=form.cleaned_data["chosen"],
            instalments=form.cleaned_data["instalments"],
        )  # fmt: skip
    except billing_services.PaymentPlanRejected as exc:
        raise problems.HttpError(409, str(exc)) from None
    return 201, _request_out(created)
