"""Billing writes."""

import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from getpaid.models import Payment as GetpaidPayment
from getpaid.types import PaymentStatus as GetpaidStatus

from accounts.models import Customer, User
from billing.models import (
    BrokerEvent,
    BrokerEventOutcome,
    CalendarFeed,
    CustomerBalance,
    Invoice,
    InvoiceStatus,
    OnlinePayment,
    OnlinePaymentItem,
    Payment,
    PaymentPlanRequest,
    PaymentPlanRequestItem,
    PaymentPlanRequestStatus,
    RefundMethod,
    RefundRequest,
    RefundStatus,
    SyncRun,
    SyncStatus,
)
from billing.payments.przelewy24 import EMAIL_MAX_LENGTH, PaymentProcessor, payer_email
from billing.qr import nrb_is_valid
from billing.sync.contract import BatchRefused
from billing.sync.loader import Loader
from billing.versions import in_progress
from core import versions
from core.emails import absolute_url, render_email
from core.jobs import enqueue
from core.money import round_money
from core.services import audit_record, outbox_put
from core.templatetags.ibok import format_money

logger = logging.getLogger(__name__)


def batch_import(*, folder: Path, clock: Callable[[], datetime], source: str = "") -> SyncRun:
    """Load one batch folder of the billing contract and record the run.

    Raises BatchRefused (recorded as a failed run) when the batch cannot be loaded at all.
    """
    run = SyncRun.objects.create(started_at=clock(), source=source or f"files:{folder}")
    try:
        result = Loader(folder).load()
    except Exception as exc:
        run.status = SyncStatus.FAILED
        where = "manifest.json" if isinstance(exc, BatchRefused) else None
        run.errors = [{"file": where, "line": None, "id": None, "error": f"{type(exc).__name__}: {exc}"}]
        run.finished_at = clock()
        run.save()
        raise
    run.cursor_to = result.cursor
    run.counts = {name: asdict(counts) for name, counts in result.counts.items()}
    run.errors = result.errors
    run.status = SyncStatus.SUCCEEDED_WITH_REJECTS if result.rejected else SyncStatus.SUCCEEDED
    run.finished_at = clock()
    run.save()
    return run


class OnlinePaymentRefused(Exception):
    """The chosen invoices or amount cannot be paid online (message is shown to the customer)."""


MAX_ONLINE_AMOUNT = Decimal("99999.99")


def online_payment_start(
    *,
    user: User,
    customer: Customer,
    invoices: Sequence[Invoice],
    amount: Decimal | None,
    fee: Decimal,
    now: datetime,
) -> GetpaidPayment:
    """Open an online payment of the chosen invoices (their outstanding amounts) or of a given amount.

    Returns django-getpaid's payment, ready for prepare_transaction(). Raises OnlinePaymentRefused.
    """
    if any(invoice.customer_id != customer.pk for invoice in invoices):
        raise OnlinePaymentRefused(_("Choose invoices of one customer number at a time."))
    if any(invoice.outstanding <= 0 for invoice in invoices):
        raise OnlinePaymentRefused(_("One of the chosen invoices is already paid."))
    if invoices:
        amount = sum((invoice.outstanding for invoice in invoices), Decimal("0.00"))
    if amount is None or amount <= 0:
        raise OnlinePaymentRefused(_("Choose at least one invoice or enter the amount to pay."))
    amount = round_money(amount)
    if amount + fee > MAX_ONLINE_AMOUNT:
        raise OnlinePaymentRefused(
            _("An online payment can be at most %(limit)s. Please pay by bank transfer.")
            % {"limit": format_money(MAX_ONLINE_AMOUNT)}
        )
    if not payer_email(user.email, customer.email):
        # Przelewy24 refuses a registration without the payer's e-mail or with a longer one: say so before it does.
        if len(user.email or "") > EMAIL_MAX_LENGTH:
            raise OnlinePaymentRefused(
                _(
                    "Przelewy24 accepts an e-mail address of at most %(limit)d characters and yours is longer. "
                    "Add a shorter address in your account settings, or pay by bank transfer."
                )
                % {"limit": EMAIL_MAX_LENGTH}
            )
        raise OnlinePaymentRefused(
            _(
                "Przelewy24 needs your e-mail address to send the payment confirmation. "
                "Add one in your account settings, or pay by bank transfer."
            )
        )
    reference = f"IBOK-{now:%y%m%d}-{secrets.token_hex(4).upper()}"
    numbers = ", ".join(invoice.number for invoice in invoices)
    title = f"{reference} nr odbiorcy {customer.number}" + (f": {numbers}" if numbers else "")
    with transaction.atomic():
        online_payment = OnlinePayment.objects.create(
            reference=reference,
            customer=customer,
            user=user,
            created_at=now,
            amount=amount,
            fee=fee,
            total=amount + fee,
            title=title[:128],
        )
        versions.bump([customer.pk])
        OnlinePaymentItem.objects.bulk_create(
            OnlinePaymentItem(online_payment=online_payment, invoice=invoice, amount=invoice.outstanding)
            for invoice in invoices
        )
        return GetpaidPayment.objects.create(
            order=online_payment,
            amount_required=online_payment.total,
            currency=online_payment.currency,
            backend=PaymentProcessor.slug,
            description=online_payment.title,
        )


def online_payment_confirm(*, broker_payment: GetpaidPayment, now: datetime) -> bool:
    """Record a payment the broker confirmed (verified notification), once, and queue it for the billing system.

    Call inside the transaction that stored the broker's confirmation. Idempotent: a repeated notification
    finds the payment already recorded and queues nothing; returns whether this call recorded it.
    """
    if broker_payment.status != GetpaidStatus.PAID or not broker_payment.external_id:
        return False
    online_payment = OnlinePayment.objects.select_related("customer").get(pk=broker_payment.order_id)
    recorded = OnlinePayment.objects.filter(pk=online_payment.pk, paid_at__isnull=True).update(
        paid_at=now, broker_reference=broker_payment.external_id
    )
    if not recorded:
        return False
    items = list(online_payment.items.select_related("invoice").order_by("id"))
    # Exact, not just true: the billing system may have booked the payment before the broker's notice came.
    Invoice.objects.filter(pk__in=[item.invoice_id for item in items]).update(payment_in_progress=in_progress())
    versions.bump([online_payment.customer_id])
    outbox_put(
        now=now,
        kind="online_payment",
        customer_number=online_payment.customer.number,
        idempotency_key=f"online_payment:{online_payment.reference}",
        payload={
            "portal_reference": online_payment.reference,
            "customer_id": online_payment.customer.external_id,
            "paid_at": now.isoformat(),
            "amount": str(online_payment.amount),
            "fee": str(online_payment.fee),
            "total": str(online_payment.total),
            "currency": online_payment.currency,
            "broker": broker_payment.backend,
            "broker_reference": broker_payment.external_id,
            "invoices": [{"invoice_id": item.invoice.external_id, "amount": str(item.amount)} for item in items],
        },
    )
    return True


def broker_event_record(
    *,
    now: datetime,
    broker_payment_id: str,
    accepted: bool,
    detail: str,
    remote_addr: str | None,
    payload: dict,
) -> BrokerEvent:
    """Keep every notification the broker sent (also forged or refused ones) for staff."""
    online_payment_id = GetpaidPayment.objects.filter(pk=broker_payment_id).values_list("order_id", flat=True).first()
    return BrokerEvent.objects.create(
        received_at=now,
        online_payment_id=online_payment_id,
        outcome=BrokerEventOutcome.ACCEPTED if accepted else BrokerEventOutcome.REJECTED,
        detail=detail[:200],
        remote_addr=remote_addr or None,
        payload=payload,
    )


def calendar_feed_issue(*, user: User, now: datetime) -> CalendarFeed:
    """Give the user a new private calendar address; the previous one stops working at once."""
    feed, _created = CalendarFeed.objects.update_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32), "created_at": now}
    )
    return feed


def calendar_feed_revoke(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def invoice_pdf_ensure(*, invoice: Invoice) -> str:
    """The storage name of the invoice's PDF, rendering and storing it the first time (safe to run twice).

    A PDF the billing system sent is kept as it is.
    """
    if invoice.pdf:
        return invoice.pdf.name
    from billing import pdf

    content = pdf.render_invoice(invoice=invoice)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", invoice.number)
    name = default_storage.save(f"invoices/portal/{invoice.issue_date:%Y/%m}/{safe}.pdf", ContentFile(content))
    # Two renders at once: the first to store wins; the other removes its copy and serves the winner's.
    if Invoice.objects.filter(pk=invoice.pk, pdf="").update(pdf=name):
        invoice.pdf.name = name
        return name
    default_storage.delete(name)
    invoice.refresh_from_db(fields=["pdf"])
    return invoice.pdf.name


def customer_sync_request(*, customer: Customer, now: datetime, throttle_seconds: int | None = None) -> bool:
    """Queue an on-demand sync of one customer; False when one was queued too recently."""
    seconds = settings.IBOK_CUSTOMER_SYNC_THROTTLE_SECONDS if throttle_seconds is None else throttle_seconds
    if seconds and not cache.add(f"ibok:customer-sync:{customer.pk}", now.isoformat(), timeout=seconds):
        return False
    enqueue("billing.customer_sync", customer_id=customer.pk)
    return True


TAX_RETENTION_YEARS = 5  # invoices and payments: five years from the end of the year they concern (Ordynacja podatkowa)


def tax_purge_date(day: date) -> date:
    """The last day a record of `day` must be kept: 31 December, five years after the end of its year."""
    return date(day.year + TAX_RETENTION_YEARS, 12, 31)


def tax_records_mark(*, customer_ids: list[int]) -> int:
    """Mark the customers' invoices and payments with the date after which they may go (their account was deleted).

    One UPDATE per year present. Returns how many rows were marked.
    """
    marked = 0
    for model, field in ((Invoice, "issue_date"), (Payment, "paid_date"), (OnlinePayment, "created_at")):
        rows = model.objects.filter(customer_id__in=customer_ids)
        years = rows.annotate(year=ExtractYear(field)).values_list("year", flat=True).distinct().order_by()
        for year in list(years):
            marked += rows.filter(**{f"{field}__year": year}).update(purge_after=tax_purge_date(date(year, 1, 1)))
    return marked


def tax_records_purge(*, today: date) -> dict[str, int]:
    """Delete the marked invoices and payments whose purge date has passed (the daily scheduled task)."""
    counts = {}
    for name, model in (("online_payments", OnlinePayment), ("payments", Payment), ("invoices", Invoice)):
        deleted, _per_model = model.objects.filter(purge_after__lt=today).delete()
        counts[name] = deleted
    return counts


def account_debts(*, customer_ids: list[int]) -> list[str]:
    """The owned customers whose balance is a debt, or not known yet: an account deletion waits for the office."""
    balances = dict(CustomerBalance.objects.filter(customer_id__in=customer_ids).values_list("customer_id", "balance"))
    return [
        _("Customer %(number)s owes %(amount)s zł.") % {"number": number, "amount": balances[pk]}
        if pk in balances
        else _("The balance of customer %(number)s is not known yet.") % {"number": number}
        for pk, number in Customer.objects.filter(pk__in=customer_ids).order_by("pk").values_list("pk", "number")
        if balances.get(pk, 1) > 0
    ]


# --- payment plans (rozłożenie na raty) --------------------------------------------------------------------------


class PaymentPlanRejected(Exception):
    """A payment plan request or decision the rules do not allow; the message says why, in the user's language."""


def payment_plan_schedule(*, total: Decimal, instalments: int, first_due: date) -> list[tuple[date, Decimal]]:
    """Equal monthly instalments from first_due, rounded down to the grosz; the remainder goes on the last."""
    if instalments < 1:
        raise PaymentPlanRejected(_("A plan needs at least one instalment."))
    each = (total / instalments).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    last = total - each * (instalments - 1)
    return [(first_due + relativedelta(months=k), last if k == instalments - 1 else each) for k in range(instalments)]


def payment_plan_check(*, total: Decimal, instalments: int) -> None:
    """The utility's limits (IBOK_PAYMENT_PLAN_*). Raises PaymentPlanRejected."""
    low, high = settings.IBOK_PAYMENT_PLAN_MIN_INSTALMENTS, settings.IBOK_PAYMENT_PLAN_MAX_INSTALMENTS
    if not low <= instalments <= high:
        raise PaymentPlanRejected(_("Choose between %(low)d and %(high)d instalments.") % {"low": low, "high": high})
    minimum = settings.IBOK_PAYMENT_PLAN_MIN_INSTALMENT
    if total / instalments < minimum:
        raise PaymentPlanRejected(
            _("An instalment must be at least %(minimum)s: choose fewer instalments.")
            % {"minimum": format_money(minimum)}
        )


def _schedule_json(schedule: list[tuple[date, Decimal]]) -> list[dict]:
    return [{"due_date": due.isoformat(), "amount": str(amount)} for due, amount in schedule]


@transaction.atomic
def payment_plan_request_submit(
    *, now: datetime, customer: Customer, user: User | None, invoices: Sequence[Invoice], instalments: int
) -> PaymentPlanRequest:
    """The customer asks to pay overdue invoices in instalments; queued for the billing system.

    Raises PaymentPlanRejected: no invoice, an invoice not overdue or not the customer's, the limits, or a request
    already waiting for a decision.
    """
    today = timezone.localdate(now)
    Customer.objects.select_for_update().filter(pk=customer.pk).first()  # one request at a time per customer
    if PaymentPlanRequest.objects.filter(customer=customer, status=PaymentPlanRequestStatus.OPEN).exists():
        raise PaymentPlanRejected(_("You already have a request waiting for a decision."))
    chosen = list(
        Invoice.objects.select_for_update()
        .filter(pk__in=[invoice.pk for invoice in invoices], customer=customer)
        .order_by("due_date", "id")
    )
    if not chosen:
        raise PaymentPlanRejected(_("Choose at least one overdue invoice."))
    if len(chosen) != len({invoice.pk for invoice in invoices}) or any(
        invoice.status_on(today) != InvoiceStatus.OVERDUE for invoice in chosen
    ):
        raise PaymentPlanRejected(_("Only overdue invoices can be paid in instalments."))
    total = sum((invoice.outstanding for invoice in chosen), Decimal("0.00"))
    payment_plan_check(total=total, instalments=instalments)
    first_due = today + timedelta(days=settings.IBOK_PAYMENT_PLAN_FIRST_DUE_DAYS)
    request = PaymentPlanRequest.objects.create(
        reference=f"RAT-{secrets.token_hex(6).upper()}",
        customer=customer,
        user=user,
        created_at=now,
        total=total,
        instalments=instalments,
        first_due_date=first_due,
    )
    PaymentPlanRequestItem.objects.bulk_create(
        [PaymentPlanRequestItem(request=request, invoice=invoice, amount=invoice.outstanding) for invoice in chosen]
    )
    versions.bump([customer.pk])
    outbox_put(
        now=now,
        kind="payment_plan_request",
        customer_number=customer.number,
        idempotency_key=f"payment_plan_request:{request.reference}",
        payload={
            "portal_reference": request.reference,
            "customer_id": customer.external_id,
            "requested_at": now.isoformat(),
            "total": str(total),
            "instalments": instalments,
            "schedule": _schedule_json(
                payment_plan_schedule(total=total, instalments=instalments, first_due=first_due)
            ),
            "invoices": [{"invoice_id": invoice.external_id, "amount": str(invoice.outstanding)} for invoice in chosen],
        },
    )
    return request


@transaction.atomic
def payment_plan_decide(
    *,
    now: datetime,
    request: PaymentPlanRequest,
    actor: User,
    accept: bool,
    instalments: int | None = None,
    note: str = "",
    base_url: str = "",
) -> PaymentPlanRequest:
    """Staff accept a request (as asked, or with another number of instalments) or refuse it; the decision goes to
    the billing system and the customer gets an e-mail. Raises PaymentPlanRejected when it is no longer open, or
    the changed number of instalments breaks the limits."""
    request = (
        PaymentPlanRequest.objects.select_for_update(of=("self",)).select_related("customer", "user").get(pk=request.pk)
    )
    if not request.is_open:
        raise PaymentPlanRejected(_("This request has already been decided."))
    if not accept:
        status = PaymentPlanRequestStatus.REFUSED
    elif instalments is not None and instalments != request.instalments:
        payment_plan_check(total=request.total, instalments=instalments)
        status = PaymentPlanRequestStatus.CHANGED
    else:
        status = PaymentPlanRequestStatus.ACCEPTED
    request.status = status
    request.decided_at = now
    request.decided_by = actor
    request.decided_instalments = instalments if status == PaymentPlanRequestStatus.CHANGED else None
    request.decision_note = note.strip()
    request.save(update_fields=["status", "decided_at", "decided_by", "decided_instalments", "decision_note"])
    schedule = (
        []
        if status == PaymentPlanRequestStatus.REFUSED
        else payment_plan_schedule(
            total=request.total, instalments=request.granted_instalments, first_due=request.first_due_date
        )
    )
    versions.bump([request.customer_id])
    audit_record(now=now, action="billing.payment_plan_decide", actor=actor, target=request, details={"status": status})
    outbox_put(
        now=now,
        kind="payment_plan_decision",
        customer_number=request.customer.number,
        idempotency_key=f"payment_plan_decision:{request.reference}",
        payload={
            "portal_reference": request.reference,
            "customer_id": request.customer.external_id,
            "decided_at": now.isoformat(),
            "decision": status,
            "instalments": request.granted_instalments if schedule else 0,
            "schedule": _schedule_json(schedule),
            "note": request.decision_note,
        },
    )
    to = (request.user.email if request.user else "") or request.customer.email
    if to:
        language = (request.user.language if request.user else "") or "pl"
        subject, text, html = render_email(
            "payment_plan_decision",
            {
                "request": request,
                "schedule": schedule,
                "url": absolute_url(reverse("billing:payment-plan"), base_url=base_url),
            },
            language=language,
        )
        enqueue("accounts.email_send", to=to, subject=subject, text=text, html=html)
    return request


class RefundRejected(Exception):
    """A refund request that cannot be made: no overpayment, a bad account number, one already open."""


def refund_request_submit(
    *, customer: Customer, user: User | None, method: str, bank_account: str, now: datetime
) -> RefundRequest:
    """Ask for the customer's overpayment back and queue the request for the billing system.

    Raises RefundRejected when there is no overpayment, the method or the account number is wrong, or another
    request of the customer is still open (a partial unique constraint holds that even against a race).
    """
    if method not in RefundMethod.values:
        raise RefundRejected(_("Choose how you want the overpayment back."))
    bank_account = bank_account if method == RefundMethod.BANK_TRANSFER else ""
    if method == RefundMethod.BANK_TRANSFER and not nrb_is_valid(bank_account):
        raise RefundRejected(_("Enter a valid Polish bank account number (26 digits)."))
    with transaction.atomic():
        balance = CustomerBalance.objects.select_for_update().filter(customer=customer).first()
        if balance is None or not balance.is_overpayment:
            raise RefundRejected(_("There is no overpayment to refund."))
        if RefundRequest.objects.filter(customer=customer, status=RefundStatus.REQUESTED).exists():
            raise RefundRejected(_("A refund request is already being handled. Wait for its decision."))
        try:
            with transaction.atomic():
                refund = RefundRequest.objects.create(
                    reference=f"ZW-{now:%y%m%d}-{secrets.token_hex(4).upper()}",
                    customer=customer,
                    user=user,
                    method=method,
                    bank_account=bank_account,
                    amount=balance.overpayment,
                    requested_at=now,
                )
        except IntegrityError as exc:  # another request won the race
            raise RefundRejected(_("A refund request is already being handled. Wait for its decision.")) from exc
        outbox_put(
            now=now,
            kind="refund_request",
            customer_number=customer.number,
            idempotency_key=f"refund_request:{refund.reference}",
            payload={
                "portal_reference": refund.reference,
                "customer_id": customer.external_id,
                "method": method,
                "bank_account": bank_account or None,
                "amount": str(refund.amount),
                "currency": "PLN",
                "requested_at": now.isoformat(),
            },
        )
    return refund


DECISIONS = (RefundStatus.PAID_OUT, RefundStatus.OFFSET, RefundStatus.REFUSED)


def refund_request_decide(*, refund: RefundRequest, status: str, actor: User, note: str, now: datetime) -> bool:
    """Staff: close an open refund request as paid out, offset or refused, tell the billing system (outbox kind
    refund_decision) and e-mail the customer.

    Returns False when the request was no longer open (decided by someone else). Raises RefundRejected for a
    status that is not a decision.
    """
    if status not in DECISIONS:
        raise RefundRejected(_("Unknown decision."))
    with transaction.atomic():
        decided = RefundRequest.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
            status=status, decided_at=now, decided_by=actor, decision_note=note.strip()
        )
        if not decided:
            return False
        refund = RefundRequest.objects.select_related("customer", "user").get(pk=refund.pk)
        audit_record(now=now, action="billing.refund_decided", actor=actor, target=refund, details={"status": status})
        # The billing system keeps the ledger: it pays out or offsets what the office decided here, in order after
        # the request itself (the outbox delivers in order), and a refusal closes the request on its side too.
        outbox_put(
            now=now,
            kind="refund_decision",
            customer_number=refund.customer.number,
            idempotency_key=f"refund_decision:{refund.reference}",
            payload={
                "portal_reference": refund.reference,
                "customer_id": refund.customer.external_id,
                "decided_at": now.isoformat(),
                "decision": status,
                "method": refund.method,
                "bank_account": refund.bank_account or None,
                "amount": str(refund.amount),
                "currency": "PLN",
                "note": refund.decision_note,
            },
        )
        recipient = refund.user if refund.user is not None and refund.user.is_active and refund.user.email else None
        email = recipient.email if recipient else refund.customer.email
        if email:
            language = (recipient.language if recipient else "") or settings.LANGUAGE_CODE
            context = {
                "refund": refund,
                "status": RefundStatus(refund.status).label,
                "refund_url": absolute_url(reverse("billing:refund")),
            }
            subject, text, html = render_email("refund_decision", context, language=language)
            enqueue("accounts.email_send", to=email, subject=subject, text=text, html=html)
    return True
