"""Billing reads, always scoped to what the acting user may see (accounts.permissions.Scope).

A user with all points of a customer sees all its documents and payments; a property manager with a subset of
points sees the documents of those points and the parts of payments that settled them, and is asked to pay for
those only (the money rule: `customer_money`, `_visible_payments`, `_visible_online_payments`).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from getpaid.models import Payment as GetpaidPayment

from accounts.models import Customer, DeliveryPoint, User
from accounts.permissions import Scope, scope_for
from billing.models import (
    CalendarFeed,
    CustomerBalance,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    OnlinePayment,
    OnlinePaymentItem,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    PaymentPlanRequest,
    PaymentPlanRequestItem,
    PaymentPlanStatus,
    RefundRequest,
    SyncRun,
    SyncStatus,
)

ZERO = Decimal("0.00")


def _booked_as(reference) -> QuerySet[Payment]:
    """Synced payments carrying a portal reference. The blank-excluding condition lets PostgreSQL use the partial
    index billing_payment_portal_ref_idx: without it the plan's estimate is a scan of every payment, which is not
    run but makes PostgreSQL JIT-compile each query (~45 ms)."""
    return Payment.objects.filter(portal_reference=reference).exclude(portal_reference="")


def scope_identity(scope: Scope) -> tuple:
    """What a page cached for this scope depends on besides its customers' data versions (core.versions): its whole
    customers and granted points, and for a partial manager the user (who also sees the payments they started)."""
    return (
        tuple(sorted(scope.full_customer_ids)),
        tuple(sorted(scope.partial_customer_ids)),
        tuple(sorted(scope.partial_points_of)),
        scope.user_id if scope.partial_customer_ids else None,
    )


def invoices_annotated(*, scope: Scope) -> QuerySet[Invoice]:
    return scope.invoices().select_related("customer", "delivery_point")


def status_filter(status: str, today: date) -> Q:
    """The SQL twin of Invoice.status_on()."""
    unpaid = Q(outstanding__gt=0)
    return {
        InvoiceStatus.PAID: Q(outstanding__lte=0),
        InvoiceStatus.OVERDUE: unpaid & Q(due_date__lt=today),
        InvoiceStatus.PARTIAL: unpaid & Q(due_date__gte=today, outstanding__lt=F("gross")),
        InvoiceStatus.UNPAID: unpaid & Q(due_date__gte=today, outstanding__gte=F("gross")),
    }[InvoiceStatus(status)]


def invoice_list(
    *,
    scope: Scope,
    today: date,
    status: str = "",
    delivery_point_id: int | None = None,
    customer_id: int | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
) -> QuerySet[Invoice]:
    """Invoices, corrections and interest notes, the latest first, filtered as asked."""
    invoices = invoices_annotated(scope=scope)
    if status:
        invoices = invoices.filter(status_filter(status, today))
    if delivery_point_id:
        invoices = invoices.filter(delivery_point_id=delivery_point_id)
    if customer_id:
        invoices = invoices.filter(customer_id=customer_id)
    if issued_from:
        invoices = invoices.filter(issue_date__gte=issued_from)
    if issued_to:
        invoices = invoices.filter(issue_date__lte=issued_to)
    return invoices.order_by("-issue_date", "-id")


def access_invoice(scope: Scope, invoice_id: int) -> Invoice:
    """One invoice with its lines, the payments that settled it and the document it corrects (4 queries), or
    Http404 for a missing invoice and another's alike. Any of the user's customers, whatever the switcher shows."""
    allocations = PaymentAllocation.objects.select_related("payment").order_by("payment__paid_date", "id")
    invoice = (
        invoices_annotated(scope=scope.everything())
        .select_related("corrected_invoice")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
            Prefetch("allocations", queryset=allocations),
        )
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice


def delivery_points_for(*, scope: Scope) -> QuerySet[DeliveryPoint]:
    return scope.points().order_by("customer_id", "code", "id")


# --- the dashboard ---------------------------------------------------------------------------------------------
#
# The dashboard caches what these read under the customers' data version (portal.views, core.versions), so they
# run once per change of the data, not once per page view.


def customers_with_balance(*, scope: Scope) -> list[Customer]:
    """The customers in scope by number, each with its `balance` loaded (missing: accessing it raises)."""
    return list(scope.customers().select_related("balance"))


def invoices_to_pay(*, user: User | None = None, limit: int = 5, scope: Scope | None = None) -> list[Invoice]:
    """Unpaid documents, the earliest due first (each knows whether an online payment for it is in progress)."""
    scope = scope if scope is not None else scope_for(user=user)
    # The dashboard shows the customer's number, never the delivery point: no join for it (fewer columns to build).
    invoices = scope.invoices().select_related("customer")
    return list(invoices.filter(outstanding__gt=0).order_by("due_date", "id")[:limit])


def _visible_payments(scope: Scope) -> QuerySet[Payment]:
    """Payments in scope, annotated `scope_amount` (for a partial manager: only the parts that settled their
    points' invoices, never the whole payment) and `scope_partial` (then its free-text title is not shown)."""
    if scope.is_empty:
        return Payment.objects.none()
    whole = scope.acts_for("customer_id")
    if not scope.partial_point_ids:
        return Payment.objects.filter(whole).annotate(scope_amount=F("amount"), scope_partial=Value(False))
    granted = PaymentAllocation.objects.filter(scope.granted("invoice__delivery_point_id"))
    q = whole | Q(Exists(granted.filter(payment=OuterRef("pk"))))
    part = granted.filter(payment=OuterRef("pk")).order_by().values("payment").annotate(s=Sum("amount")).values("s")
    if not scope.full_customer_ids:
        whole = Q(pk__isnull=True)
    return Payment.objects.filter(q).annotate(
        scope_amount=Case(When(whole, then=F("amount")), default=Coalesce(Subquery(part), ZERO)),
        scope_partial=Case(When(whole, then=Value(False)), default=Value(True)),
    )


def recent_payments(*, user: User | None = None, limit: int = 5, scope: Scope | None = None) -> list[Payment]:
    """The latest payments in scope, annotated as _visible_payments has them."""
    scope = scope if scope is not None else scope_for(user=user)
    return list(_visible_payments(scope).select_related("customer").order_by("-paid_date", "-id")[:limit])


@dataclass
class PointDues:
    """What is left to pay for one delivery point (or the customer-wide documents when point is None)."""

    customer_id: int
    point_id: int | None
    point_code: str
    point_address: str
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    next_due_date: date | None = None
    next_due_amount: Decimal = ZERO


@dataclass
class CustomerDues:
    customer_id: int
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    next_due_date: date | None = None
    next_due_amount: Decimal = ZERO
    points: list[PointDues] = field(default_factory=list)

    @property
    def has_many_points(self) -> bool:
        return len(self.points) > 1


def dues_by_point(*, scope: Scope, today: date) -> dict[int, CustomerDues]:
    """Per customer and delivery point: left to pay, overdue, and the next due date with its amount (one query)."""
    rows = _dues_rows(scope)
    result: dict[int, CustomerDues] = {}
    points: dict[tuple[int, int | None], PointDues] = {}
    for customer_id, point_id, due_date, code, street, building, apartment, city, amount in rows:
        customer = result.setdefault(customer_id, CustomerDues(customer_id=customer_id))
        point = points.get((customer_id, point_id))
        if point is None:
            number = f"{building}/{apartment}" if apartment else (building or "")
            address = f"{street} {number}, {city}" if street else ""
            point = points[customer_id, point_id] = PointDues(customer_id, point_id, code or "", address)
            customer.points.append(point)
        for target in (customer, point):
            target.outstanding += amount
            if due_date < today:
                target.overdue += amount
            elif target.next_due_date is None or due_date < target.next_due_date:
                target.next_due_date, target.next_due_amount = due_date, amount
            elif due_date == target.next_due_date:
                target.next_due_amount += amount
    return result


def _dues_rows(scope: Scope) -> list[tuple]:
    """What is left to pay per customer, delivery point (with its code and address) and due date."""
    return list(
        scope.invoices()
        .filter(outstanding__gt=0)
        .values("customer_id", "delivery_point_id", "due_date")
        .annotate(
            code=F("delivery_point__code"),
            street=F("delivery_point__street"),
            building=F("delivery_point__building"),
            apartment=F("delivery_point__apartment"),
            city=F("delivery_point__city"),
            amount=Coalesce(Sum("outstanding"), ZERO),
        )
        .order_by("customer_id", "delivery_point__code", "delivery_point_id", "due_date")
        .values_list(
            "customer_id", "delivery_point_id", "due_date", "code", "street", "building", "apartment", "city", "amount"
        )
    )


# --- the money rule: what a user may see and pay of a customer's money ---------------------------------------------


@dataclass(frozen=True)
class PartialBalance:
    """A partial manager's balance: the outstanding of the invoices of their delivery points only (seed 003),
    never the customer's saldo. Shaped like CustomerBalance for the templates."""

    balance: Decimal
    overdue: Decimal
    as_of: object = None  # computed by the portal, not the billing system: the page header's update time says when
    is_partial: bool = True

    @property
    def is_debt(self) -> bool:
        return self.balance > 0

    @property
    def is_overpayment(self) -> bool:
        return False

    @property
    def overpayment(self) -> Decimal:
        return ZERO


@dataclass(frozen=True)
class CustomerMoney:
    """One customer's money as the user may see and pay it: the customer's saldo for those who act as the
    customer; for a manager of some points, what the documents of those points leave to pay, never the saldo."""

    customer: Customer
    balance: "CustomerBalance | PartialBalance | None"  # None until the billing system has reported a saldo
    dues: CustomerDues | None = None  # what is left to pay, per delivery point; None: nothing (or not asked)

    @property
    def is_partial(self) -> bool:
        return isinstance(self.balance, PartialBalance)

    @property
    def to_pay(self) -> Decimal | None:
        """What a transfer for this customer should be (None: nothing to ask for)."""
        if self.balance is None or self.balance.balance <= 0:
            return None
        return self.balance.balance


def customer_money(*, scope: Scope, today: date, per_point: bool = True, as_of=None) -> list[CustomerMoney]:
    """The customers in scope by number, each with what the user may see and pay of its money: the one place of
    the rule for the dashboard, the transfer page and the payment form. Two queries; one without `per_point` for a
    scope with no partially managed customer. `as_of`: when a partial balance was computed (the last sync)."""
    wanted = per_point or scope.partial_customer_ids
    dues = dues_by_point(scope=scope, today=today) if wanted else {}
    money = []
    for customer in customers_with_balance(scope=scope):
        customer_dues = dues.get(customer.pk)
        if scope.is_partial(customer.pk):
            balance = PartialBalance(
                balance=customer_dues.outstanding if customer_dues else ZERO,
                overdue=customer_dues.overdue if customer_dues else ZERO,
            )
        else:
            balance = getattr(customer, "balance", None)  # loaded with the customer; a missing one raises
        money.append(CustomerMoney(customer=customer, balance=balance, dues=customer_dues))
    return money


_NOT_CACHED = object()
LAST_SYNC_CACHE_KEY = "billing:last-successful-sync"
LAST_SYNC_CACHE_SECONDS = 60  # also dropped whenever a sync run is saved or deleted (billing.receivers)


def last_successful_sync() -> SyncRun | None:
    """The last sync that succeeded: every dashboard shows when it ran, so it is cached for everyone."""
    run = cache.get(LAST_SYNC_CACHE_KEY, default=_NOT_CACHED)
    if run is _NOT_CACHED:
        run = (
            SyncRun.objects.filter(status__in=[SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED_WITH_REJECTS])
            .order_by("-finished_at", "-id")
            .first()
        )
        cache.set(LAST_SYNC_CACHE_KEY, run, LAST_SYNC_CACHE_SECONDS)
    return run


# --- settlements (the ledger) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    on: date
    kind: str  # an InvoiceKind value or "PAYMENT"
    document: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    invoice_id: int | None = None

    @property
    def is_payment(self) -> bool:
        return self.kind == "PAYMENT"


@dataclass(frozen=True)
class Ledger:
    customer: Customer
    date_from: date
    date_to: date
    opening: Decimal
    entries: list[LedgerEntry]
    closing: Decimal
    partial: bool
    point_id: int | None = None  # the ledger of one delivery point: its documents and what settled them

    @property
    def total_debit(self) -> Decimal:
        return sum((e.debit for e in self.entries), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((e.credit for e in self.entries), ZERO)


def ledger(
    *, scope: Scope, customer: Customer, date_from: date, date_to: date, delivery_point_id: int | None = None
) -> Ledger:
    """Documents (debit) and payments (credit) of one customer in [date_from, date_to] with a running balance.

    The opening balance is everything before date_from. A partial manager sees the documents of their points
    and, as payments, the parts that settled them; so does anyone who asks for one delivery point's ledger.
    Four queries whatever the history length.
    """
    partial = not scope.acts_as_customer(customer.pk)
    invoices = scope.invoices().filter(customer=customer)
    if delivery_point_id is not None:
        invoices = invoices.filter(delivery_point_id=delivery_point_id)
    if partial or delivery_point_id is not None:
        credits = PaymentAllocation.objects.filter(invoice__in=invoices).annotate(
            on=F("payment__paid_date"), value=F("amount")
        )
    else:
        credits = Payment.objects.filter(customer=customer).annotate(on=F("paid_date"), value=F("amount"))
    opening = (invoices.filter(issue_date__lt=date_from).aggregate(s=Sum("gross"))["s"] or ZERO) - (
        credits.filter(on__lt=date_from).aggregate(s=Sum("value"))["s"] or ZERO
    )
    rows: list[tuple] = []
    for invoice in invoices.filter(issue_date__gte=date_from, issue_date__lte=date_to).only(
        "id", "number", "kind", "issue_date", "due_date", "gross"
    ):
        label = InvoiceKind(invoice.kind).label
        rows.append(
            (invoice.issue_date, 0, invoice.id, invoice.kind, invoice.number, str(label), invoice.gross, invoice.id)
        )
    in_period = credits.filter(on__gte=date_from, on__lte=date_to)
    by_allocation = partial or delivery_point_id is not None
    for credit in in_period.select_related("payment") if by_allocation else in_period:
        payment = credit.payment if by_allocation else credit
        description = str(payment.get_channel_display()) + (f": {payment.title}" if payment.title else "")
        rows.append((credit.on, 1, payment.id, "PAYMENT", payment.external_id, description, -credit.value, None))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    balance = opening
    entries = []
    for on, _order, _id, kind, document, description, amount, invoice_id in rows:
        balance += amount
        entries.append(
            LedgerEntry(
                on=on,
                kind=kind,
                document=document,
                description=description,
                debit=amount if amount > 0 else ZERO,
                credit=-amount if amount < 0 else ZERO,
                balance=balance,
                invoice_id=invoice_id,
            )
        )
    return Ledger(customer, date_from, date_to, opening, entries, balance, partial, delivery_point_id)


def ledger_points(*, scope: Scope, customer_ids: list[int]) -> QuerySet[DeliveryPoint]:
    """The delivery points the settlements may be filtered by: the visible points of these customers."""
    return scope.points().filter(customer_id__in=customer_ids).order_by("customer_id", "code", "id")


# --- payments --------------------------------------------------------------------------------------------------


def _visible_allocations(scope: Scope) -> QuerySet[PaymentAllocation]:
    """The parts of payments that settled documents the user may see, each with its invoice, by due date."""
    return (
        scope.rows(PaymentAllocation.objects, customer="invoice__customer_id", point="invoice__delivery_point_id")
        .select_related("invoice")
        .order_by("invoice__due_date", "id")
    )


def payment_list(
    *, scope: Scope, customer_id: int | None = None, allocations_shown: int | None = None
) -> QuerySet[Payment]:
    """Booked payments, the latest first; each with what it settled (prefetched: one more query a page).

    With `allocations_shown`, only that many of each payment's allocations are prefetched, as `shown_allocations`
    (the history page: a payment of a housing community may settle a hundred invoices), and each payment is
    annotated `allocation_count`, how many the user may see in all.
    """
    payments = _visible_payments(scope)
    if customer_id:
        payments = payments.filter(customer_id=customer_id)
    allocations = _visible_allocations(scope)
    if allocations_shown is not None:
        counted = allocations.filter(payment=OuterRef("pk")).order_by().values("payment").annotate(n=Count("id"))
        payments = payments.annotate(allocation_count=Coalesce(Subquery(counted.values("n")), 0))
        shown = Prefetch("allocations", queryset=allocations[:allocations_shown], to_attr="shown_allocations")
        return payments.select_related("customer").prefetch_related(shown).order_by("-paid_date", "-id")
    return (
        payments.select_related("customer")
        .prefetch_related(Prefetch("allocations", queryset=allocations))
        .order_by("-paid_date", "-id")
    )


def access_payment(scope: Scope, payment_id: int) -> Payment:
    """One booked payment with everything it settled that the user may see (as on the payment history), or Http404
    for a missing payment and another's alike. Any of the user's customers, whatever the switcher shows."""
    payment = (
        _visible_payments(scope.everything())
        .select_related("customer")
        .prefetch_related(Prefetch("allocations", queryset=_visible_allocations(scope.everything())))
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise Http404
    return payment


def _visible_online_payments(scope: Scope) -> QuerySet[OnlinePayment]:
    """A partial manager sees the online payments of invoices of their points only, and those they started."""
    if scope.is_empty:
        return OnlinePayment.objects.none()
    q = scope.acts_for("customer_id")
    if scope.partial_customer_ids:
        items = OnlinePaymentItem.objects.filter(online_payment=OuterRef("pk"))
        inside = items.filter(scope.granted("invoice__delivery_point_id"))
        outside = items.exclude(scope.granted("invoice__delivery_point_id"))
        q |= scope.in_part("customer_id") & ((Exists(inside) & ~Exists(outside)) | Q(user_id=scope.user_id))
    return OnlinePayment.objects.filter(q)


def online_payments_in_progress(*, scope: Scope) -> QuerySet[OnlinePayment]:
    """Online payments the broker confirmed that the billing system has not booked yet."""
    booked = _booked_as(OuterRef("reference"))
    return (
        _visible_online_payments(scope)
        .filter(paid_at__isnull=False)
        .exclude(Exists(booked))
        .select_related("customer")
        .order_by("-paid_at", "-id")
    )


def access_online_payment(scope: Scope, reference: str) -> OnlinePayment:
    """The return page's payment, annotated `booked`: one the user may see, else Http404."""
    booked = _booked_as(OuterRef("reference"))
    online_payment = (
        _visible_online_payments(scope.everything())
        .select_related("customer")
        .prefetch_related(
            Prefetch("items", queryset=OnlinePaymentItem.objects.select_related("invoice").order_by("id"))
        )
        .annotate(booked=Exists(booked))
        .filter(reference=reference)
        .first()
    )
    if online_payment is None:
        raise Http404
    return online_payment


def invoices_payable(*, scope: Scope) -> QuerySet[Invoice]:
    """What may be chosen for an online payment: unpaid, not already being paid (a manager of some points: of
    those points only, as customer_money has it)."""
    return (
        invoices_annotated(scope=scope).filter(outstanding__gt=0, payment_in_progress=False).order_by("due_date", "id")
    )


def broker_payment_by_id(*, payment_id) -> GetpaidPayment:
    """The broker's side of a payment, for the notification handler (not user-scoped: the broker calls)."""
    return GetpaidPayment.objects.get(pk=payment_id)


def broker_order_elsewhere(*, payment_id, order_id) -> bool:
    """Whether the broker's order id is already recorded on another payment (a notice replayed onto a new one)."""
    if order_id in (None, ""):
        return False
    return GetpaidPayment.objects.filter(external_id=f"p24:{order_id}").exclude(pk=str(payment_id)).exists()


def broker_payment_for(*, online_payment: OnlinePayment):
    """The django-getpaid payment of an online payment, if one was started."""
    return online_payment.payments.order_by("-created_on").first()


# --- the calendar feed -----------------------------------------------------------------------------------------


def calendar_feed_of(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def calendar_by_token(*, token: str) -> CalendarFeed:
    """Raises CalendarFeed.DoesNotExist for an unknown (or revoked) token."""
    return CalendarFeed.objects.select_related("user").get(token=token, user__is_active=True)


def calendar_invoices(*, scope: Scope, since: date) -> QuerySet[Invoice]:
    """Due dates worth a calendar entry: every unpaid document, and the paid ones due since `since`."""
    return (
        scope.invoices()
        .filter(Q(outstanding__gt=0) | Q(due_date__gte=since))
        .select_related("customer")
        .order_by("due_date", "id")
    )


def last_invoice_matches(
    *, customer: Customer | None, invoice_number: str | None = None, amount: Decimal | None = None
) -> bool:
    """Registration proof (accounts.proofs): the number or the gross amount of the customer's latest invoice.

    Runs its one query even for customer=None, so an unknown customer number costs the same time.
    """
    latest = (
        Invoice.objects.filter(customer_id=customer.pk if customer else None, kind=InvoiceKind.INVOICE)
        .order_by("-issue_date", "-id")
        .values("number", "gross")
        .first()
    )
    if latest is None:
        return False
    if invoice_number is not None and "".join(invoice_number.split()).upper() == latest["number"].upper():
        return True
    return amount is not None and amount == latest["gross"]


# --- the balance forecast ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastInputs:
    invoices: list  # billing.forecast.InvoiceFacts
    balance: Decimal
    average_payment: Decimal  # a month, over the last twelve
    meters: list  # meters.Meter, each with `last_value` and `last_date` of its last confirmed reading (or None)


def forecast_inputs(*, scope: Scope, customer: Customer, today: date) -> ForecastInputs:
    """What the forecast of one customer rests on: the invoices of the last 15 months with their lines, the
    balance, the average monthly payment and the meters with their last confirmed readings. Four queries."""
    from billing.forecast import InvoiceFacts, LineFacts  # noqa: PLC0415 - pure module, kept out of import time
    from meters.models import Reading, ReadingStatus  # noqa: PLC0415

    since = today - timedelta(days=460)  # a year ago and the rhythm before it
    invoices = (
        scope.invoices()
        .filter(
            customer=customer,
            kind=InvoiceKind.INVOICE,
            period_start__isnull=False,
            period_end__isnull=False,
            period_end__gte=since,
        )
        .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")))
        .order_by("period_start", "id")
    )
    facts = [
        InvoiceFacts(
            number=invoice.number,
            issue_date=invoice.issue_date,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            lines=tuple(
                LineFacts(
                    description=line.description,
                    unit=line.unit,
                    quantity=line.quantity,
                    unit_price_net=line.unit_price_net,
                    vat_rate=line.vat_rate,
                )
                for line in invoice.lines.all()
            ),
        )
        for invoice in invoices
    ]
    money = {m.customer.pk: m for m in customer_money(scope=scope.only(customer.pk), today=today)}
    known = money.get(customer.pk)
    balance = known.balance.balance if known is not None and known.balance is not None else ZERO
    year_ago = today - timedelta(days=365)
    # A manager of some points does not see the customer's payments: no average for them.
    paid = (
        ZERO
        if scope.is_partial(customer.pk)
        else Payment.objects.filter(customer=customer, paid_date__gte=year_ago, paid_date__lte=today).aggregate(
            total=Coalesce(Sum("amount"), ZERO)
        )["total"]
    )
    last = Reading.objects.filter(meter=OuterRef("pk"), status=ReadingStatus.CONFIRMED).order_by("-read_date", "-id")
    meters = list(
        scope.meters()
        .filter(delivery_point__customer=customer, removed_date__isnull=True)
        .annotate(last_value=Subquery(last.values("value")[:1]), last_date=Subquery(last.values("read_date")[:1]))
        .order_by("serial_number", "id")
    )
    return ForecastInputs(
        invoices=facts,
        balance=balance,
        average_payment=(paid / 12).quantize(Decimal("0.01")),
        meters=meters,
    )


# --- payment plans -----------------------------------------------------------------------------------------------


def payment_plan_customers(*, scope: Scope) -> list[Customer]:
    """The customers the user acts as in full: only they may ask to spread the customer's debt."""
    return [customer for customer in scope.customers().order_by("number", "id") if scope.acts_as_customer(customer.pk)]


def overdue_invoices(*, customer: Customer, today: date) -> list[Invoice]:
    """The customer's documents past their due date with something left to pay, oldest due first."""
    return list(
        Invoice.objects.filter(customer=customer, outstanding__gt=0, due_date__lt=today).order_by("due_date", "id")
    )


def payment_plan_requests_of(*, customer: Customer, limit: int = 5) -> list:
    """The customer's latest payment plan requests with their invoices."""
    return list(
        PaymentPlanRequest.objects.filter(customer=customer)
        .prefetch_related(
            Prefetch("items", queryset=PaymentPlanRequestItem.objects.select_related("invoice").order_by("id"))
        )
        .order_by("-created_at", "-id")[:limit]
    )


def active_payment_plans(*, customer_ids) -> list:
    """Plans in force of these customers (from the billing system), by customer."""
    return list(
        PaymentPlan.objects.filter(customer_id__in=customer_ids, status=PaymentPlanStatus.ACTIVE)
        .select_related("customer")
        .order_by("customer__number", "id")
    )


def refund_customers(*, scope: Scope) -> QuerySet[Customer]:
    """The customers whose own login this is (a property manager does not ask for a customer's money), with their
    balance loaded (a missing one raises on access)."""
    return scope.full_customers().filter(pk__in=sorted(scope.owned_customer_ids)).select_related("balance")


def refund_requests_of(*, customer_ids: list[int]) -> list[RefundRequest]:
    """The customers' refund requests, newest first."""
    return list(RefundRequest.objects.filter(customer_id__in=customer_ids).order_by("-requested_at", "-id"))
