"""Billing reads, always scoped to what the acting user may see.

Who sees what (the same rule as accounts.selectors.visible_delivery_points): a user with all points of a customer
sees all its documents and payments; a property manager with a subset of points sees the documents of those
points and the parts of payments that settled them. `scope_for` resolves that once per request (one query) so
every list below filters by plain ids, which PostgreSQL answers from indexes however large the tables are.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from getpaid.models import Payment as GetpaidPayment

from accounts import permissions
from accounts.models import Customer, DeliveryPoint, User
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
    SyncRun,
    SyncStatus,
)
from core import db

ZERO = Decimal("0.00")


# The rule lives in accounts.permissions; billing filters by the ids it resolves.
Scope = permissions.Scope
scope_for = permissions.scope_for
request_scope = permissions.request_scope


def _booked_as(reference) -> QuerySet[Payment]:
    """Synced payments carrying a portal reference. The blank-excluding condition lets PostgreSQL use the partial
    index billing_payment_portal_ref_idx: without it the plan's estimate is a scan of every payment, which is not
    run but makes PostgreSQL JIT-compile each query (~45 ms)."""
    return Payment.objects.filter(portal_reference=reference).exclude(portal_reference="")


def _in_progress() -> Exists:
    """An online payment the broker confirmed for this invoice, not yet booked by the billing system."""
    booked = _booked_as(OuterRef("online_payment__reference"))
    return Exists(
        OnlinePaymentItem.objects.filter(invoice=OuterRef("pk"), online_payment__paid_at__isnull=False).exclude(
            Exists(booked)
        )
    )


def visible_invoices(*, scope: Scope) -> QuerySet[Invoice]:
    if scope.is_empty:
        return Invoice.objects.none()
    return Invoice.objects.filter(scope.invoice_filter())


def invoices_annotated(*, scope: Scope) -> QuerySet[Invoice]:
    return (
        visible_invoices(scope=scope).select_related("customer", "delivery_point").annotate(in_progress=_in_progress())
    )


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


def invoice_detail(*, scope: Scope, invoice_id: int) -> Invoice:
    """One invoice with its lines, the payments that settled it and the document it corrects (4 queries)."""
    allocations = PaymentAllocation.objects.select_related("payment").order_by("payment__paid_date", "id")
    return (
        invoices_annotated(scope=scope)
        .select_related("corrected_invoice")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
            Prefetch("allocations", queryset=allocations),
        )
        .get(pk=invoice_id)
    )


def delivery_points_for(*, scope: Scope) -> QuerySet[DeliveryPoint]:
    return DeliveryPoint.objects.filter(scope.point_filter()).order_by("customer_id", "code", "id")


def customers_for(*, scope: Scope) -> QuerySet[Customer]:
    return Customer.objects.filter(pk__in=scope.customer_ids).order_by("number", "id")


# --- the dashboard ---------------------------------------------------------------------------------------------
#
# Every reader here has a hand-written PostgreSQL twin (core.db: the ORM's Python costs more than the queries
# themselves); tests/core/test_sql_twins.py holds each twin to its ORM original. The scope enters the SQL as two
# arrays: whole customers, and the single delivery points of partially managed ones.


def _use_sql(scope: Scope) -> bool:
    return db.sql_twins_enabled() and scope.is_small


# An invoice in scope: (for any scope, for one whole customer), as core.db.scoped_sql takes them.
_IN_SCOPE = (
    "(i.customer_id = ANY(%(full)s::bigint[]) OR i.delivery_point_id = ANY(%(points)s::bigint[]))",
    "i.customer_id = %(customer)s",
)


def customers_with_balance(*, scope: Scope) -> list[Customer]:
    """The customers in scope by number, each with its `balance` loaded (missing: accessing it raises)."""
    if _use_sql(scope):
        return _customers_with_balance_sql(scope)
    return list(customers_for(scope=scope).select_related("balance"))


_CUSTOMERS_SQL = db.scoped_sql(
    f"""
SELECT {db.columns(Customer, "c")}, {db.columns(CustomerBalance, "b")}
FROM accounts_customer c LEFT JOIN billing_customerbalance b ON b.customer_id = c.id
WHERE {{customers}}
ORDER BY c.number, c.id
""",
    customers=("c.id = ANY(%(ids)s::bigint[])", "c.id = %(customer)s"),
)


def _customers_with_balance_sql(scope: Scope) -> list[Customer]:
    if scope.is_empty:
        return []
    customers = []
    width = db.width(Customer)
    for row in db.fetch(_CUSTOMERS_SQL.for_scope(scope), {**scope.sql_params(), "ids": sorted(scope.customer_ids)}):
        customer = db.from_row(Customer, row)
        balance = db.from_row(CustomerBalance, row, width) if row[width] is not None else None
        Customer.balance.related.set_cached_value(customer, balance)
        customers.append(customer)
    return customers


def invoices_to_pay(*, user: User, limit: int = 5, scope: Scope | None = None) -> list[Invoice]:
    """Unpaid documents, the earliest due first, each marked when an online payment for it is in progress."""
    scope = scope if scope is not None else scope_for(user=user)
    if _use_sql(scope):
        return _invoices_to_pay_sql(scope, limit)
    # The dashboard shows the customer's number, never the delivery point: no join for it (fewer columns to build).
    invoices = visible_invoices(scope=scope).select_related("customer").annotate(in_progress=_in_progress())
    return list(invoices.filter(outstanding__gt=0).order_by("due_date", "id")[:limit])


# _in_progress(): the broker confirmed an online payment of the invoice that the billing system has not booked.
_INVOICES_TO_PAY_SQL = db.scoped_sql(
    f"""
SELECT {db.columns(Invoice, "i")}, {db.columns(Customer, "c")},
    EXISTS (
        SELECT 1 FROM billing_onlinepaymentitem item
        JOIN billing_onlinepayment online ON online.id = item.online_payment_id
        WHERE item.invoice_id = i.id AND online.paid_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM billing_payment booked
            WHERE booked.portal_reference = online.reference AND booked.portal_reference <> ''
        )
    )
FROM billing_invoice i JOIN accounts_customer c ON c.id = i.customer_id
WHERE {{in_scope}} AND i.outstanding > 0
ORDER BY i.due_date, i.id
LIMIT %(limit)s
""",
    in_scope=_IN_SCOPE,
)


def _invoices_to_pay_sql(scope: Scope, limit: int) -> list[Invoice]:
    if scope.is_empty:
        return []
    invoices = []
    width = db.width(Invoice)
    for row in db.fetch(_INVOICES_TO_PAY_SQL.for_scope(scope), {**scope.sql_params(), "limit": limit}):
        invoice = db.from_row(Invoice, row)
        invoice.customer = db.from_row(Customer, row, width)
        invoice.in_progress = row[-1]
        invoices.append(invoice)
    return invoices


def _visible_payments(scope: Scope) -> QuerySet[Payment]:
    """Payments in scope, annotated `scope_amount` (for a partial manager: only the parts that settled their
    points' invoices, never the whole payment) and `scope_partial` (then its free-text title is not shown)."""
    if scope.is_empty:
        return Payment.objects.none()
    q = Q(customer_id__in=scope.full_customer_ids)
    if not scope.partial_point_ids:
        return Payment.objects.filter(q).annotate(scope_amount=F("amount"), scope_partial=Value(False))
    granted = PaymentAllocation.objects.filter(invoice__delivery_point_id__in=scope.partial_point_ids)
    q |= Exists(granted.filter(payment=OuterRef("pk")))
    part = granted.filter(payment=OuterRef("pk")).order_by().values("payment").annotate(s=Sum("amount")).values("s")
    whole = Q(customer_id__in=scope.full_customer_ids) if scope.full_customer_ids else Q(pk__isnull=True)
    return Payment.objects.filter(q).annotate(
        scope_amount=Case(When(whole, then=F("amount")), default=Coalesce(Subquery(part), ZERO)),
        scope_partial=Case(When(whole, then=Value(False)), default=Value(True)),
    )


def recent_payments(*, user: User, limit: int = 5, scope: Scope | None = None) -> list[Payment]:
    """The latest payments in scope, annotated as _visible_payments has them."""
    scope = scope if scope is not None else scope_for(user=user)
    if _use_sql(scope):
        return _recent_payments_sql(scope, limit)
    return list(_visible_payments(scope).select_related("customer").order_by("-paid_date", "-id")[:limit])


# A partial manager's payments are found through the allocations to their points' invoices; a UNION, since an OR
# of the customer ids and that subquery would make PostgreSQL scan every payment.
_GRANTED_PARTS = """
    SELECT a.payment_id, a.amount FROM billing_paymentallocation a JOIN billing_invoice i ON i.id = a.invoice_id
    WHERE i.delivery_point_id = ANY(%(points)s::bigint[])
"""
_RECENT_PAYMENTS_SQL = f"""
SELECT {db.columns(Payment, "p")}, {db.columns(Customer, "c")},
    CASE WHEN p.customer_id = ANY(%(full)s::bigint[]) THEN p.amount
    ELSE COALESCE((SELECT sum(part.amount) FROM ({_GRANTED_PARTS}) part WHERE part.payment_id = p.id), 0) END,
    NOT (p.customer_id = ANY(%(full)s::bigint[]))
FROM billing_payment p JOIN accounts_customer c ON c.id = p.customer_id
WHERE p.id IN (
    SELECT id FROM billing_payment WHERE customer_id = ANY(%(full)s::bigint[])
    UNION SELECT payment_id FROM ({_GRANTED_PARTS}) part
)
ORDER BY p.paid_date DESC, p.id DESC
LIMIT %(limit)s
"""
# Whole customers only (the usual case): the index on (customer, paid date) answers it.
_RECENT_PAYMENTS_FULL_SQL = db.scoped_sql(
    f"""
SELECT {db.columns(Payment, "p")}, {db.columns(Customer, "c")}, p.amount, false
FROM billing_payment p JOIN accounts_customer c ON c.id = p.customer_id
WHERE {{customers}}
ORDER BY p.paid_date DESC, p.id DESC
LIMIT %(limit)s
""",
    customers=("p.customer_id = ANY(%(full)s::bigint[])", "p.customer_id = %(customer)s"),
)


def _recent_payments_sql(scope: Scope, limit: int) -> list[Payment]:
    if scope.is_empty:
        return []
    sql = _RECENT_PAYMENTS_SQL if scope.partial_point_ids else _RECENT_PAYMENTS_FULL_SQL.for_scope(scope)
    payments = []
    width = db.width(Payment)
    for row in db.fetch(sql, {**scope.sql_params(), "limit": limit}):
        payment = db.from_row(Payment, row)
        payment.customer = db.from_row(Customer, row, width)
        payment.scope_amount, payment.scope_partial = row[-2], row[-1]
        payments.append(payment)
    return payments


def overdue_total(*, user: User):
    """What is left to pay on the documents the user may see (a partial manager: their points' only)."""
    return (
        visible_invoices(scope=scope_for(user=user))
        .filter(outstanding__gt=0)
        .aggregate(total=Sum("outstanding"))["total"]
    )


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
    rows = _dues_rows_sql(scope) if _use_sql(scope) else _dues_rows(scope)
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
        visible_invoices(scope=scope)
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


_DUES_SQL = db.scoped_sql(
    """
SELECT i.customer_id, i.delivery_point_id, i.due_date, p.code, p.street, p.building, p.apartment, p.city,
    COALESCE(sum(i.outstanding), 0)
FROM billing_invoice i LEFT JOIN accounts_deliverypoint p ON p.id = i.delivery_point_id
WHERE {in_scope} AND i.outstanding > 0
GROUP BY i.customer_id, i.delivery_point_id, i.due_date, p.code, p.street, p.building, p.apartment, p.city
ORDER BY i.customer_id, p.code, i.delivery_point_id, i.due_date
""",
    in_scope=_IN_SCOPE,
)


def _dues_rows_sql(scope: Scope) -> list[tuple]:
    return db.fetch(_DUES_SQL.for_scope(scope), scope.sql_params()) if not scope.is_empty else []


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

    @property
    def total_debit(self) -> Decimal:
        return sum((e.debit for e in self.entries), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((e.credit for e in self.entries), ZERO)


def ledger(*, scope: Scope, customer: Customer, date_from: date, date_to: date) -> Ledger:
    """Documents (debit) and payments (credit) of one customer in [date_from, date_to] with a running balance.

    The opening balance is everything before date_from. A partial manager sees the documents of their points
    and, as payments, the parts that settled them. Five queries whatever the history length.
    """
    partial = customer.pk not in scope.full_customer_ids
    invoices = visible_invoices(scope=scope).filter(customer=customer)
    if partial:
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
    for credit in in_period.select_related("payment") if partial else in_period:
        payment = credit.payment if partial else credit
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
    return Ledger(customer, date_from, date_to, opening, entries, balance, partial)


# --- payments --------------------------------------------------------------------------------------------------


def payment_list(*, scope: Scope, customer_id: int | None = None) -> QuerySet[Payment]:
    """Booked payments, the latest first; each with what it settled (prefetched: one more query a page)."""
    payments = _visible_payments(scope)
    if customer_id:
        payments = payments.filter(customer_id=customer_id)
    allocations = PaymentAllocation.objects.filter(scope.invoice_filter("invoice__")).select_related("invoice")
    return (
        payments.select_related("customer")
        .prefetch_related(Prefetch("allocations", queryset=allocations.order_by("invoice__due_date", "id")))
        .order_by("-paid_date", "-id")
    )


def _visible_online_payments(scope: Scope) -> QuerySet[OnlinePayment]:
    """A partial manager sees the online payments of invoices of their points only, and those they started."""
    q = Q(customer_id__in=scope.full_customer_ids)
    if scope.partial_customer_ids:
        items = OnlinePaymentItem.objects.filter(online_payment=OuterRef("pk"))
        inside = items.filter(invoice__delivery_point_id__in=scope.partial_point_ids)
        outside = items.exclude(invoice__delivery_point_id__in=scope.partial_point_ids)
        q |= Q(customer_id__in=scope.partial_customer_ids) & (
            (Exists(inside) & ~Exists(outside)) | Q(user_id=scope.user_id)
        )
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


def online_payment_detail(*, scope: Scope, reference: str) -> OnlinePayment:
    """The return page's payment: only one of the user's customers'; annotated `booked`."""
    booked = _booked_as(OuterRef("reference"))
    return (
        _visible_online_payments(scope)
        .select_related("customer")
        .prefetch_related(
            Prefetch("items", queryset=OnlinePaymentItem.objects.select_related("invoice").order_by("id"))
        )
        .annotate(booked=Exists(booked))
        .get(reference=reference)
    )


def invoices_payable(*, scope: Scope) -> QuerySet[Invoice]:
    """What may be chosen for an online payment: unpaid, not already being paid."""
    return invoices_annotated(scope=scope).filter(outstanding__gt=0, in_progress=False).order_by("due_date", "id")


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
        visible_invoices(scope=scope)
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
