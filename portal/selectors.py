"""Reads for the pages that combine apps, prepared so that templates run no queries."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case as DbCase
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import Customer, DeliveryPoint
from accounts.permissions import Scope
from billing import selectors as billing_selectors
from billing.models import CustomerBalance, Invoice, InvoiceStatus, OnlinePayment, Payment, SyncRun
from meters.models import Meter
from tickets.models import Case, CaseStatus

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    status: str
    status_label: str
    days_overdue: int
    in_progress: bool = False  # an online payment for it waits for the billing system

    @property
    def is_overdue(self) -> bool:
        return self.status == InvoiceStatus.OVERDUE


@dataclass(frozen=True)
class Dashboard:
    customers: list[billing_selectors.CustomerMoney]
    invoices_to_pay: list[InvoiceRow]
    recent_payments: list[Payment]
    last_sync: SyncRun | None
    today: date
    customer_count: int = 0  # every customer the user acts for; more than `customers` when narrowed
    payment_plans: list = field(default_factory=list)  # billing.models.PaymentPlan in force

    @property
    def has_many_customers(self) -> bool:
        return self.customer_count > 1

    @property
    def is_narrowed(self) -> bool:
        return self.customer_count > len(self.customers)


DASHBOARD_MAX_CUSTOMERS = 10  # above this the dashboard shows one customer (the switcher's) and links the overview


def dashboard_scope(*, scope: Scope) -> Scope:
    """The part of the user's scope the dashboard shows. A scope narrowed by the customer switcher shows its
    customer; a user of more than DASHBOARD_MAX_CUSTOMERS customers (a property manager) who chose none sees the
    first by number; the overview shows them all."""
    if scope.narrowed_to is None and len(scope.everything().customer_ids) > DASHBOARD_MAX_CUSTOMERS:
        return scope.only(scope.customers().values_list("pk", flat=True).first())
    return scope


def dashboard_for(*, scope: Scope, today: date, last_sync: SyncRun | None = None) -> Dashboard:
    """What the user sees first: balances of their customers, invoices to pay, recent payments, data freshness.

    The customers are those of dashboard_scope. What a manager of some points sees of the money is billing's rule
    (billing.selectors.customer_money). `last_sync`: when the caller has read it already.
    """
    customer_count = len(scope.everything().customer_ids)
    scope = dashboard_scope(scope=scope)
    last_sync = last_sync or billing_selectors.last_successful_sync()
    customers = billing_selectors.customer_money(scope=scope, today=today)
    dues = any(money.dues for money in customers)
    invoices = []
    # Nothing left to pay (dues_by_point reads the same unpaid documents): no need to ask which to pay first.
    for invoice in billing_selectors.invoices_to_pay(scope=scope) if dues else []:
        status = invoice.status_on(today)
        invoices.append(
            InvoiceRow(
                invoice=invoice,
                status=status,
                status_label=InvoiceStatus(status).label,
                days_overdue=max((today - invoice.due_date).days, 0) if status == InvoiceStatus.OVERDUE else 0,
                in_progress=invoice.in_progress,
            )
        )
    return Dashboard(
        customers=customers,
        invoices_to_pay=invoices,
        recent_payments=billing_selectors.recent_payments(scope=scope),
        last_sync=last_sync,
        today=today,
        customer_count=customer_count,
        payment_plans=billing_selectors.active_payment_plans(
            customer_ids=[pk for pk in scope.customer_ids if scope.acts_as_customer(pk)]
        ),
    )


def dashboard_context(board: Dashboard) -> dict:
    """The context of the dashboard's cached part (pages/_dashboard_data.html)."""
    return {
        "customer_count": board.customer_count,
        "is_narrowed": board.is_narrowed,
        "customers": board.customers,
        "invoices_to_pay": board.invoices_to_pay,
        "recent_payments": board.recent_payments,
        "has_many_customers": board.has_many_customers,
        "today": board.today,
        "next_instalments": [
            {"plan": plan, "next": next((i for i in plan.instalments if i["due_date"] >= board.today), None)}
            for plan in board.payment_plans
        ],
    }


# --- the property manager's overview across customers -----------------------------------------------------------

OVERVIEW_SORTS = {
    "number": ("number", "id"),
    "name": ("name", "number", "id"),
    "balance": ("balance_due", "number", "id"),
    "overdue": ("overdue_due", "number", "id"),
    "next_due": ("next_due_date", "number", "id"),
    "cases": ("open_cases", "number", "id"),
    "legalizations": ("legalizations_expiring", "number", "id"),
}
OVERVIEW_SHOWS = ("overdue", "to_pay", "cases", "legalizations")


@dataclass(frozen=True)
class OverviewQuery:
    search: str = ""
    show: str = ""  # one of OVERVIEW_SHOWS, or "" for every customer
    sort: str = "number"  # a key of OVERVIEW_SORTS, "-" in front for descending


@dataclass(frozen=True)
class OverviewTotals:
    customers: int
    balance: Decimal
    overdue: Decimal
    open_cases: int
    legalizations_expiring: int


def _sum_of(invoices: QuerySet, field: str = "outstanding") -> Subquery:
    return Subquery(
        invoices.order_by().values("customer_id").annotate(total=Sum(field)).values("total")[:1],
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def _count_of(rows: QuerySet, group: str) -> Coalesce:
    counted = rows.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def overview_customers(*, scope: Scope, today: date, query: OverviewQuery) -> QuerySet[Customer]:
    """Every customer in the user's scope with its figures, as ONE query however many there are.

    Annotated per customer: balance_due and overdue_due (the billing system's saldo for a full scope; for a
    partial scope the outstanding of the invoices of the granted points only), next_due_date, open_cases and
    legalizations_expiring (meters of the visible points whose legalization ends within
    IBOK_LEGALIZATION_WARNING_DAYS, or has ended), is_partial. Each figure is a correlated subquery on indexed
    columns, its partial variant limited to the granted points (Scope.granted); the scope enters as Scope's
    conditions (id lists for a small scope, subqueries on the accesses for a large one).
    """
    scope = scope.everything()  # every property, whatever the switcher shows
    full = scope.acts_for("pk")
    granted = scope.granted("delivery_point_id")

    def per_scope(whole, part):
        """The customer's own figure for a full scope, the granted points' one for a partial scope."""
        return DbCase(When(full, then=whole), default=part)

    invoices = Invoice.objects.filter(customer_id=OuterRef("pk"), outstanding__gt=0)
    mine = invoices.filter(granted)
    overdue = {"due_date__lt": today}
    upcoming = {"due_date__gte": today}

    def next_due(rows):
        return Subquery(rows.filter(**upcoming).order_by("due_date").values("due_date")[:1])

    saldo = CustomerBalance.objects.filter(customer_id=OuterRef("pk"))
    cases = Case.objects.filter(customer_id=OuterRef("pk")).exclude(status=CaseStatus.CLOSED)
    warning_until = today + timedelta(days=settings.IBOK_LEGALIZATION_WARNING_DAYS)
    meters = Meter.objects.filter(
        delivery_point__customer_id=OuterRef("pk"),
        removed_date__isnull=True,
        legalization_valid_until__lte=warning_until,
    )
    customers = scope.customers().annotate(
        is_partial=DbCase(When(full, then=Value(False)), default=Value(True)),
        balance_due=per_scope(
            Coalesce(Subquery(saldo.values("balance")[:1]), _sum_of(invoices), ZERO), Coalesce(_sum_of(mine), ZERO)
        ),
        overdue_due=per_scope(
            Coalesce(Subquery(saldo.values("overdue")[:1]), _sum_of(invoices.filter(**overdue)), ZERO),
            Coalesce(_sum_of(mine.filter(**overdue)), ZERO),
        ),
        next_due_date=per_scope(next_due(invoices), next_due(mine)),
        open_cases=per_scope(_count_of(cases, "customer_id"), _count_of(cases.filter(granted), "customer_id")),
        legalizations_expiring=per_scope(
            _count_of(meters, "delivery_point__customer_id"),
            _count_of(meters.filter(granted), "delivery_point__customer_id"),
        ),
    )
    search = query.search.strip()
    if search:
        points = DeliveryPoint.objects.filter(customer_id=OuterRef("pk")).filter(
            Q(code__icontains=search) | Q(street__icontains=search) | Q(city__icontains=search)
        )
        visible_points = points.filter(scope.acts_for("customer_id") | scope.granted("pk"))
        customers = customers.filter(
            Q(number__icontains=search)
            | Q(name__icontains=search)
            | Q(street__icontains=search)
            | Exists(visible_points)
        )
    if query.show == "overdue":
        customers = customers.filter(overdue_due__gt=0)
    elif query.show == "to_pay":
        customers = customers.filter(balance_due__gt=0)
    elif query.show == "cases":
        customers = customers.filter(open_cases__gt=0)
    elif query.show == "legalizations":
        customers = customers.filter(legalizations_expiring__gt=0)
    descending = query.sort.startswith("-")
    fields = OVERVIEW_SORTS.get(query.sort.lstrip("-"), OVERVIEW_SORTS["number"])
    order = [F(fields[0]).desc(nulls_last=True) if descending else F(fields[0]).asc(nulls_last=True)]
    order += [f"-{f}" if descending else f for f in fields[1:]]
    return customers.order_by(*order)


def overview_totals(*, customers: QuerySet[Customer]) -> OverviewTotals:
    """The sums over every row the filters leave (one query)."""
    totals = customers.order_by().aggregate(
        n=Count("pk"),
        balance=Sum("balance_due"),
        overdue=Sum("overdue_due"),
        cases=Sum("open_cases"),
        legalizations=Sum("legalizations_expiring"),
    )
    return OverviewTotals(
        customers=totals["n"] or 0,
        balance=totals["balance"] or ZERO,
        overdue=totals["overdue"] or ZERO,
        open_cases=totals["cases"] or 0,
        legalizations_expiring=totals["legalizations"] or 0,
    )


def manager_payable(*, scope: Scope, search: str = "") -> QuerySet[Invoice]:
    """Unpaid invoices of every customer in scope not already being paid, by customer then due date."""
    invoices = billing_selectors.invoices_payable(scope=scope.everything())
    search = search.strip()
    if search:
        invoices = invoices.filter(
            Q(number__icontains=search)
            | Q(customer__number__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(delivery_point__street__icontains=search)
            | Q(delivery_point__code__icontains=search)
        )
    return invoices.order_by("customer__number", "due_date", "id")


def pay_batch(*, scope: Scope, references: list[str]) -> list[OnlinePayment]:
    """The online payments of one batch the user started (only those of customers still in scope)."""
    if not references:
        return []
    return list(
        OnlinePayment.objects.filter(scope.everything().sees("customer_id"), reference__in=references[:500])
        .select_related("customer")
        .order_by("customer__number", "id")
    )
