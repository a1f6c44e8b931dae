"""Billing pages: invoices, settlements, payments, transfer details, online payment, calendar feed."""

import csv
import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from getpaid.exceptions import CommunicationError
from getpaid.views import CallbackDetailView

from accounts import http
from accounts.permissions import request_scope, scope_for
from accounts.reauth import reauthentication_required
from billing import forecast as billing_forecast
from billing import forms, ics, pdf, qr, selectors, services
from billing.models import InvoiceStatus
from billing.payments import sandbox
from billing.payments.przelewy24 import PaymentProcessor
from core import versions
from core.methods import require_http_methods, require_safe
from core.models import SecurityEventKind
from core.security import security_event_record

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
LEDGER_PAGE_SIZE = 50  # settlements entries per page
ALLOCATIONS_SHOWN = 5  # of each payment on the payment history; all on the payment's own page


def _row(invoice, today) -> dict:
    status = invoice.status_on(today)
    return {"invoice": invoice, "status": status, "label": InvoiceStatus(status).label}


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


@login_required
@require_safe
def invoice_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    scope = request_scope(request)

    def content() -> str:
        points = list(selectors.delivery_points_for(scope=scope))
        form = forms.InvoiceFilterForm(request.GET or None, points=points)
        filters = form.cleaned_data if form.is_valid() else {}
        invoices = selectors.invoice_list(
            scope=scope,
            today=today,
            status=filters.get("status") or "",
            delivery_point_id=filters.get("point"),
            issued_from=filters.get("issued_from"),
            issued_to=filters.get("issued_to"),
        )
        page = _page(request, invoices)
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "page": page,
            "rows": [_row(invoice, today) for invoice in page],
            "has_many_customers": scope.has_many_customers,
            "query": query.urlencode(),
        }
        return render_to_string("billing/_invoice_list.html", context)

    # Cached under the customers' data version (core.versions): the same filters show the same page until the data
    # changes, and the version's query replaces the three of the list.
    html = versions.fragment(
        "invoice-list",
        customer_ids=scope.customer_ids,
        identity=(selectors.scope_identity(scope), today, sorted(request.GET.lists())),
        render=content,
    )
    return render(request, "billing/invoice_list.html", {"content": mark_safe(html)})  # noqa: S308 - our template


@login_required
@require_safe
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.access_invoice(request_scope(request), invoice_id)
    lines = list(invoice.lines.all())
    context = {
        "invoice": invoice,
        "status": invoice.status_on(timezone.localdate()),
        "status_label": InvoiceStatus(invoice.status_on(timezone.localdate())).label,
        "lines": lines,
        "vat_rows": pdf.vat_summary(lines),
        "allocations": list(invoice.allocations.all()),
        "period_last_day": invoice.period_end - timedelta(days=1) if invoice.period_end else None,
        "ksef_codes": qr.ksef_codes(invoice, host=settings.IBOK_KSEF_QR_HOST, seller_nip=settings.IBOK_UTILITY_NIP),
    }
    return render(request, "billing/invoice_detail.html", context)


@login_required
@require_safe
def invoice_pdf(request: HttpRequest, invoice_id: int) -> FileResponse:
    """The PDF from storage (rendered the first time); storage is never served directly."""
    invoice = selectors.access_invoice(request_scope(request), invoice_id)
    name = services.invoice_pdf_ensure(invoice=invoice)
    filename = invoice.number.replace("/", "_") + ".pdf"
    return FileResponse(
        default_storage.open(name, "rb"), as_attachment=False, filename=filename, content_type="application/pdf"
    )


def _ledger(request: HttpRequest, scope):
    """The period form (with the customer and delivery point filters) and the ledger it asks for, or None."""
    today = timezone.localdate()
    customers = list(scope.customers())  # the switcher's choice only, when one is made (a narrowed scope)
    points = list(selectors.ledger_points(scope=scope, customer_ids=[customer.pk for customer in customers]))
    start, end = forms.default_period(today)
    # What the request does not say comes from the defaults: a link with a point but no period shows the last year.
    data = {"date_from": start, "date_to": end, "customer": scope.narrowed_to} | request.GET.dict()
    form = forms.PeriodForm(data, customers=customers, points=points)
    if not customers or not form.is_valid():
        return form, None
    by_id = {customer.pk: customer for customer in customers}
    customer = by_id.get(form.cleaned_data.get("customer") or customers[0].pk)
    if customer is None:
        raise Http404
    ledger = selectors.ledger(
        scope=scope,
        customer=customer,
        date_from=form.cleaned_data["date_from"],
        date_to=form.cleaned_data["date_to"],
        delivery_point_id=form.cleaned_data.get("point"),
    )
    return form, ledger


def _ledger_query(form) -> str:
    """The filters the page shows, as a query string: the CSV link and "show more" keep them."""
    values = {"date_from": form.cleaned_data["date_from"], "date_to": form.cleaned_data["date_to"]}
    for name in ("customer", "point"):
        if form.cleaned_data.get(name):
            values[name] = form.cleaned_data[name]
    return urlencode(values)


@login_required
@require_safe
def settlements(request: HttpRequest) -> HttpResponse:
    """The ledger of a period, the latest entries first, LEDGER_PAGE_SIZE at a time with "show more"."""
    scope = request_scope(request)

    def content() -> str:
        form, ledger = _ledger(request, scope)
        context = {"form": form, "ledger": ledger}
        if ledger is not None:
            page = Paginator(ledger.entries[::-1], LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
            point = next((p for p in form.fields["point"].choices if p[0] == ledger.point_id), None)
            context |= {
                "page": page,
                "point_label": point[1] if point and ledger.point_id else "",
                "query": _ledger_query(form),
            }
        return render_to_string("billing/_settlements.html", context)

    # Cached as the invoice list is (core.versions): the same filters and page show the same HTML until the data
    # changes. The whole period's ledger is read to run its balance, but only one page of it is rendered.
    html = versions.fragment(
        "settlements",
        customer_ids=scope.customer_ids,
        identity=(selectors.scope_identity(scope), timezone.localdate(), sorted(request.GET.lists())),
        render=content,
    )
    return render(request, "billing/settlements.html", {"content": mark_safe(html)})  # noqa: S308 - our template


class _Echo:
    """A file-like object whose write() hands back what it is given: csv.writer then yields lines to stream."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_safe
def settlements_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The whole ledger of the period as CSV for a spreadsheet (never paged), streamed row by row: semicolons and
    decimal commas, as Polish Excel expects."""
    form, ledger = _ledger(request, request_scope(request))
    if ledger is None:
        raise Http404
    writer = csv.writer(_Echo(), delimiter=";")

    def amount(value) -> str:
        return f"{value:.2f}".replace(".", ",")

    # The labels are translated now: the rows are written after the view has returned.
    head = [_("Date"), _("Document"), _("Description"), _("Charge"), _("Payment"), _("Balance")]
    opening = [f"{ledger.date_from:%Y-%m-%d}", "", _("Opening balance"), "", "", amount(ledger.opening)]
    closing = [f"{ledger.date_to:%Y-%m-%d}", "", _("Closing balance"), "", "", amount(ledger.closing)]

    def lines():
        yield "\ufeff"  # so that Excel reads UTF-8
        yield writer.writerow(head)
        yield writer.writerow(opening)
        for entry in ledger.entries:
            yield writer.writerow(
                [
                    f"{entry.on:%Y-%m-%d}",
                    entry.document,
                    entry.description,
                    amount(entry.debit) if entry.debit else "",
                    amount(entry.credit) if entry.credit else "",
                    amount(entry.balance),
                ]
            )
        yield writer.writerow(closing)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"rozliczenia-{ledger.customer.number}-{ledger.date_from:%Y%m%d}-{ledger.date_to:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_safe
def payment_list(request: HttpRequest) -> HttpResponse:
    """Booked payments, PAGE_SIZE at a time with "show more"; each with the first invoices it settled, collapsed."""
    scope = request_scope(request)
    page = _page(request, selectors.payment_list(scope=scope, allocations_shown=ALLOCATIONS_SHOWN))
    context = {
        "page": page,
        "allocations_shown": ALLOCATIONS_SHOWN,
        "in_progress": list(selectors.online_payments_in_progress(scope=scope)),
        "has_many_customers": scope.has_many_customers,
    }
    return render(request, "billing/payment_list.html", context)


@login_required
@require_safe
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    """One booked payment and every invoice it settled that the user may see."""
    payment = selectors.access_payment(request_scope(request), payment_id)
    return render(
        request, "billing/payment_detail.html", {"payment": payment, "allocations": payment.allocations.all()}
    )


@login_required
@require_safe
def transfer(request: HttpRequest) -> HttpResponse:
    """The customer's individual account for transfers, checked, with the banks' transfer QR code."""
    # A manager of some points pays for their points only: never the customer's whole saldo (seed 003).
    money = selectors.customer_money(scope=request_scope(request), today=timezone.localdate(), per_point=False)
    accounts = []
    for customer, to_pay in ((m.customer, m.to_pay) for m in money):
        valid = qr.nrb_is_valid(customer.bank_account)
        title = _("Customer number %(number)s") % {"number": customer.number}
        accounts.append(
            {
                "customer": customer,
                "valid": valid,
                "to_pay": to_pay,
                "title": title,
                "qr_amount": qr.code_carries_amount(to_pay),
                "qr": qr.transfer_svg_data_uri(
                    qr.transfer_text(
                        recipient_nip=settings.IBOK_UTILITY_NIP,
                        account=customer.bank_account,
                        amount=to_pay,
                        recipient=settings.IBOK_UTILITY_NAME,
                        title=qr.transfer_title(customer_number=customer.number),
                    )
                )
                if valid
                else "",
            }
        )
    context = {"accounts": accounts, "recipient": settings.IBOK_UTILITY_NAME, "address": settings.IBOK_UTILITY_ADDRESS}
    return render(request, "billing/transfer.html", context)


def _payments_enabled() -> bool:
    config = settings.GETPAID_BACKEND_SETTINGS.get(PaymentProcessor.slug, {})
    return bool(config.get("crc")) and (config.get("transport") == "sandbox" or bool(config.get("api_key")))


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest) -> HttpResponse:
    """Choose invoices (or an amount), see the fee, go to the payment broker."""
    scope = request_scope(request)
    payable = list(selectors.invoices_payable(scope=scope))
    # A free amount for any customer in scope; the invoices of the granted points only (customer_money's rule).
    customers = [m.customer for m in selectors.customer_money(scope=scope, today=timezone.localdate(), per_point=False)]
    initial = {"invoices": [int(pk) for pk in request.GET.getlist("invoice") if pk.isdigit()]}
    data = request.POST if request.method == "POST" else None  # an empty submission is still a submission
    form = forms.OnlinePaymentForm(data, initial=initial, payable=payable, customers=customers)
    enabled = _payments_enabled()
    if request.method == "POST" and enabled and form.is_valid():
        try:
            broker_payment = services.online_payment_start(
                user=request.user,
                customer=form.cleaned_data["customer_obj"],
                invoices=form.cleaned_data["invoice_objs"],
                amount=form.cleaned_data.get("amount"),
                fee=settings.IBOK_PAYMENT_FEE,
                now=timezone.now(),
            )
        except services.OnlinePaymentRefused as exc:
            form.add_error(None, str(exc))
        else:
            # getpaid registers the transaction with the broker and answers with the redirect to its page.
            try:
                return broker_payment.prepare_transaction(
                    request=request, email=broker_payment.order.payer_email, language=translation.get_language()
                )
            except CommunicationError:
                logger.exception("the payment broker refused or did not answer the registration")
                form.add_error(
                    None, _("Przelewy24 did not accept the payment. Please try again later or pay by bank transfer.")
                )
    today = timezone.localdate()
    selected = {str(value) for value in (form["invoices"].value() or [])}
    rows = [
        {"invoice": invoice, "checked": str(invoice.pk) in selected, "overdue": invoice.due_date < today}
        for invoice in payable
    ]
    context = {
        "form": form,
        "rows": rows,
        "fee": settings.IBOK_PAYMENT_FEE,
        "enabled": enabled,
        "has_many_customers": len(customers) > 1,
    }
    return render(request, "billing/pay.html", context)


@login_required
@require_safe
def online_payment_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """Where the broker sends the customer back: paid, waiting for the broker, or not paid."""
    online_payment = selectors.access_online_payment(request_scope(request), reference)
    broker_payment = selectors.broker_payment_for(online_payment=online_payment)
    context = {
        "online_payment": online_payment,
        "broker_status": broker_payment.status if broker_payment else "",
        "items": list(online_payment.items.all()),
    }
    return render(request, "billing/online_payment_detail.html", context)


class BrokerNotificationView(CallbackDetailView):
    """The broker's notification (Przelewy24 urlStatus), through django-getpaid's callback handling.

    getpaid verifies it with our processor (signature, shop, session, amount, currency) and records the broker's
    confirmation under a row lock; in the same transaction we record the payment and queue it for the billing
    system. Every notification, accepted or refused, is kept as a BrokerEvent for staff.
    """

    def _handle_locked_callback(self, request: HttpRequest, pk, **kwargs) -> HttpResponse:
        response = super()._handle_locked_callback(request, pk, **kwargs)
        broker_payment = selectors.broker_payment_by_id(payment_id=pk)
        services.online_payment_confirm(broker_payment=broker_payment, now=timezone.now())
        return response

    def post(self, request: HttpRequest, pk, *args, **kwargs) -> HttpResponse:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            payload = {"raw": request.body[:2000].decode("utf-8", "replace")}
        if not isinstance(payload, dict):
            payload = {"raw": payload}
        if selectors.broker_order_elsewhere(payment_id=pk, order_id=payload.get("orderId")):
            # A correctly signed notice of one payment replayed onto another: refused before getpaid records it
            # (the broker's order id is unique, so recording it would fail on the database's constraint).
            response = HttpResponse("order belongs to another payment", status=409, content_type="text/plain")
        else:
            try:
                response = super().post(request, pk, *args, **kwargs)
            except IntegrityError:  # the same replay racing a first notice: the constraint decides
                response = HttpResponse("order belongs to another payment", status=409, content_type="text/plain")
        services.broker_event_record(
            now=timezone.now(),
            broker_payment_id=str(pk),
            accepted=response.status_code == 200,
            detail=f"{response.status_code} {response.content[:150].decode('utf-8', 'replace')}",
            remote_addr=request.META.get("REMOTE_ADDR"),
            payload=payload,
        )
        if response.status_code != 200:
            security_event_record(
                now=timezone.now(),
                kind=SecurityEventKind.PAYMENT_NOTICE_REFUSED,
                ip_address=http.client_ip(request),
                identifier=str(pk),
                details={"status": response.status_code, "payment": str(pk)},
            )
        return response


broker_notification = csrf_exempt(BrokerNotificationView.as_view())


@require_http_methods(["GET", "POST"])
def sandbox_broker(request: HttpRequest, token: str) -> HttpResponse:
    """The sandbox broker's payment page (only with IBOK_PAYMENT_SANDBOX): pay or cancel, nothing real."""
    if not settings.IBOK_PAYMENT_SANDBOX:
        raise Http404
    try:
        registered = sandbox.transaction(token)
    except sandbox.SandboxRefused:
        raise Http404 from None
    if request.method == "POST":
        if "pay" in request.POST:
            crc = settings.GETPAID_BACKEND_SETTINGS[PaymentProcessor.slug]["crc"]
            method_id = {"blik": 154, "card": 218, "bank": 25}.get(request.POST.get("method", ""), 154)
            body = sandbox.notification(registered, crc=crc, method_id=method_id)
            sandbox.deliver(registered["urlStatus"], body)
        return HttpResponseRedirect(registered["urlReturn"])
    context = {"transaction": registered, "amount": registered["amount"] / 100}
    return render(request, "billing/sandbox_broker.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def calendar(request: HttpRequest) -> HttpResponse:
    """The private calendar address: create, replace or switch off."""
    if request.method == "POST":
        if "revoke" in request.POST:
            services.calendar_feed_revoke(user=request.user)
            messages.success(request, _("The calendar address no longer works."))
        else:
            services.calendar_feed_issue(user=request.user, now=timezone.now())
            messages.success(request, _("Your private calendar address is ready. Any earlier address no longer works."))
        return redirect("billing:calendar")
    feed = selectors.calendar_feed_of(user=request.user)
    url = request.build_absolute_uri(reverse("billing:calendar-feed", kwargs={"token": feed.token})) if feed else ""
    return render(request, "billing/calendar.html", {"feed": feed, "url": url})


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The ICS feed of due dates; the unguessable token is the only key (calendar apps cannot log in)."""
    try:
        feed = selectors.calendar_by_token(token=token)
    except ObjectDoesNotExist:
        raise Http404 from None
    today = timezone.localdate()
    scope = scope_for(user=feed.user)
    invoices = selectors.calendar_invoices(scope=scope, since=today - timedelta(days=365))
    plans = selectors.active_payment_plans(customer_ids=[pk for pk in scope.customer_ids if scope.acts_as_customer(pk)])
    with translation.override(feed.user.language or "pl"):
        body = ics.due_dates_calendar(invoices=invoices, now=timezone.now(), host=request.get_host(), plans=plans)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="ibok-terminy.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response


@login_required
@require_safe
def forecast(request: HttpRequest) -> HttpResponse:
    """The balance forecast of one customer, with the "what if" of a monthly payment and a planned reading."""
    today = timezone.localdate()
    scope = request_scope(request)
    customers = list(scope.customers().order_by("number", "id"))
    chosen = request.GET.get("customer") or (customers[0].pk if customers else None)
    by_id = {str(customer.pk): customer for customer in customers}
    customer = by_id.get(str(chosen))
    if customers and customer is None:
        raise Http404
    context = {"form": None, "result": None, "customer": customer}
    if customer is not None:
        inputs = selectors.forecast_inputs(scope=scope, customer=customer, today=today)
        form = forms.ForecastForm(request.GET or None, customers=customers, meters=inputs.meters)
        form.last_readings = {
            meter.pk: (meter.last_value, meter.last_date) for meter in inputs.meters if meter.last_date is not None
        }
        what_if = form.cleaned_data if form.is_valid() else {}
        planned = None
        if what_if.get("meter") is not None:
            meter = next(meter for meter in inputs.meters if meter.pk == what_if["meter"])
            planned = billing_forecast.PlannedReading(
                unit=meter.unit,
                value=what_if["planned_value"],
                on=what_if["planned_on"],
                last_value=meter.last_value,
                last_on=meter.last_date,
            )
        payment = what_if.get("monthly_payment")
        result = billing_forecast.forecast(
            invoices=inputs.invoices,
            today=today,
            balance=inputs.balance,
            monthly_payment=inputs.average_payment if payment is None else payment,
            planned=planned,
        )
        context.update(
            form=form,
            result=result,
            chart=billing_forecast.build_chart(result) if result else None,
            average_payment=inputs.average_payment,
        )
    return render(request, "billing/forecast.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def payment_plan(request: HttpRequest) -> HttpResponse:
    """Ask to pay overdue invoices in instalments: choose them and the number, see the schedule, send."""
    now = timezone.now()
    today = timezone.localdate(now)
    customers = selectors.payment_plan_customers(scope=request_scope(request))
    by_id = {str(customer.pk): customer for customer in customers}
    chosen = request.POST.get("customer") or request.GET.get("customer")
    customer = by_id.get(str(chosen)) if chosen else (customers[0] if customers else None)
    if chosen and customer is None:
        raise Http404
    context: dict = {"customer": customer, "customers": customers, "form": None, "schedule": None}
    if customer is not None:
        overdue = selectors.overdue_invoices(customer=customer, today=today)
        form = forms.PaymentPlanForm(request.POST or None, invoices=overdue)
        requests = selectors.payment_plan_requests_of(customer=customer)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if "send" in request.POST:
                try:
                    services.payment_plan_request_submit(
                        now=now,
                        customer=customer,
                        user=request.user,
                        invoices=data["chosen"],
                        instalments=data["instalments"],
                    )
                except services.PaymentPlanRejected as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Your request has been sent. We will let you know the decision."))
                    return redirect(f"{reverse('billing:payment-plan')}?customer={customer.pk}")
            else:
                first_due = today + timedelta(days=settings.IBOK_PAYMENT_PLAN_FIRST_DUE_DAYS)
                context["schedule"] = services.payment_plan_schedule(
                    total=data["total"], instalments=data["instalments"], first_due=first_due
                )
                context["total"] = data["total"]
        context.update(
            form=form,
            overdue=overdue,
            selected=request.POST.getlist("invoices"),
            requests=requests,
            open_request=next((r for r in requests if r.is_open), None),
            plans=selectors.active_payment_plans(customer_ids=[customer.pk]),
            limits={
                "low": settings.IBOK_PAYMENT_PLAN_MIN_INSTALMENTS,
                "high": settings.IBOK_PAYMENT_PLAN_MAX_INSTALMENTS,
                "minimum": settings.IBOK_PAYMENT_PLAN_MIN_INSTALMENT,
            },
        )
    return render(request, "billing/payment_plan.html", context)


def _refund_page(request: HttpRequest, *, bound_form=None, status: int = 200) -> HttpResponse:
    customers = selectors.refund_customers(scope=request_scope(request))
    requests = selectors.refund_requests_of(customer_ids=[customer.pk for customer in customers])
    sections = []
    for customer in customers:
        balance = getattr(customer, "balance", None)  # loaded with the customer; a missing one raises AttributeError
        own = [refund for refund in requests if refund.customer_id == customer.pk]
        open_request = next((refund for refund in own if refund.is_open), None)
        form = None
        if balance is not None and balance.is_overpayment and open_request is None:
            if bound_form is not None and bound_form.data.get("customer") == str(customer.pk):
                form = bound_form
            else:
                form = forms.RefundForm(customers=customers, initial={"customer": customer.pk})
        sections.append({"customer": customer, "balance": balance, "open": open_request, "history": own, "form": form})
    shown = any(section["form"] is bound_form for section in sections)
    stray = bound_form.errors if bound_form is not None and not shown else None  # a customer not in this list
    context = {"sections": sections, "stray_errors": stray}
    return render(request, "billing/refund.html", context, status=status)


@login_required
@require_safe
def refund(request: HttpRequest) -> HttpResponse:
    """The overpayment: its amount, the request form (or why there is none), the requests and their status."""
    return _refund_page(request)


@login_required
@require_http_methods(["POST"])
@reauthentication_required  # money leaves to an account the user types: the password (or second factor) again
def refund_submit(request: HttpRequest) -> HttpResponse:
    customers = selectors.refund_customers(scope=request_scope(request))
    form = forms.RefundForm(request.POST, customers=customers)
    if form.is_valid():
        data = form.cleaned_data
        try:
            refund = services.refund_request_submit(
                customer=data["customer"],
                user=request.user,
                method=data["method"],
                bank_account=data["bank_account"],
                now=timezone.now(),
            )
        except services.RefundRejected as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Refund request %(reference)s sent. We will e-mail you the decision.")
                % {"reference": refund.reference},
            )
            return redirect("billing:refund")
    return _refund_page(request, bound_form=form, status=400)
