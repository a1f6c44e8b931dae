"""Billing pages: invoices, settlements, payments, transfer details, online payment, calendar feed."""

import csv
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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


def _ledger(request: HttpRequest):
    today = timezone.localdate()
    scope = request_scope(request)
    customers = list(scope.customers())  # the switcher's choice only, when one is made (a narrowed scope)
    start, end = forms.default_period(today)
    defaults = {"date_from": start, "date_to": end, "customer": scope.narrowed_to}
    data = request.GET.copy() if "date_from" in request.GET else defaults
    form = forms.PeriodForm(data, customers=customers)
    if not customers or not form.is_valid():
        return form, None
    by_id = {customer.pk: customer for customer in customers}
    customer = by_id.get(form.cleaned_data.get("customer") or customers[0].pk)
    if customer is None:
        raise Http404
    ledger = selectors.ledger(
        scope=scope, customer=customer, date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
    )
    return form, ledger


@login_required
@require_safe
def settlements(request: HttpRequest) -> HttpResponse:
    form, ledger = _ledger(request)
    return render(
        request, "billing/settlements.html", {"form": form, "ledger": ledger, "csv_query": request.GET.urlencode()}
    )


@login_required
@require_safe
def settlements_csv(request: HttpRequest) -> HttpResponse:
    """The ledger as CSV for a spreadsheet: semicolons and decimal commas, as Polish Excel expects."""
    form, ledger = _ledger(request)
    if ledger is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"rozliczenia-{ledger.customer.number}-{ledger.date_from:%Y%m%d}-{ledger.date_to:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that Excel reads UTF-8
    writer = csv.writer(response, delimiter=";")

    def amount(value) -> str:
        return f"{value:.2f}".replace(".", ",")

    writer.writerow([_("Date"), _("Document"), _("Description"), _("Charge"), _("Payment"), _("Balance")])
    writer.writerow([f"{ledger.date_from:%Y-%m-%d}", "", _("Opening balance"), "", "", amount(ledger.opening)])
    for entry in ledger.entries:
        writer.writerow(
            [
                f"{entry.on:%Y-%m-%d}",
                entry.document,
                entry.description,
                amount(entry.debit) if entry.debit else "",
                amount(entry.credit) if entry.credit else "",
                amount(entry.balance),
            ]
        )
    writer.writerow([f"{ledger.date_to:%Y-%m-%d}", "", _("Closing balance"), "", "", amount(ledger.closing)])
    return response


@login_required
@require_safe
def payment_list(request: HttpRequest) -> HttpResponse:
    scope = request_scope(request)
    page = _page(request, selectors.payment_list(scope=scope))
    context = {
        "page": page,
        "in_progress": list(selectors.online_payments_in_progress(scope=scope)),
        "has_many_customers": scope.has_many_customers,
    }
    return render(request, "billing/payment_list.html", context)


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
    with translation.override(feed.user.language or "pl"):
        body = ics.due_dates_calendar(invoices=invoices, now=timezone.now(), host=request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="ibok-terminy.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
