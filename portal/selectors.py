"""Reads for the pages that combine apps, prepared so that templates run no queries."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
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

from accounts import permissions
from accounts.models import Customer, DeliveryPoint, User
from billing import selectors as billing_selectors
from billing.models import CustomerBalance, Invoice, InvoiceStatus, OnlinePayment, Payment, SyncRun
from meters.models import Meter
from tickets.models import Case, CaseStatus

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CustomerSummary:
    customer: Customer
    balance: "CustomerBalance | PartialBalance | None"  # None until the billing system has reported a saldo
    dues: billing_selectors.CustomerDues | None = None  # what is left to pay, per delivery point; None: nothing


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
class PartialBalance:
    """A partial manager's balance: the outstanding of the invoices of their delivery points only (seed 003),
    never the customer's saldo. Shaped like CustomerBalance for the template."""

    balance: Decimal
    overdue: Decimal
    as_of: object = None  # the last sync's end, when known
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
class Dashboard:
    customers: list[CustomerSummary]
    invoices_to_pay: list[InvoiceRow]
    recent_payments: list[Payment]
    last_sync: SyncRun | None
    today: date
    customer_count: int = 0  # every customer the user acts for; more than `customers` when narrowed

    @property
    def has_many_customers(self) -> bool:
        return self.customer_count > 1

    @property
    def is_narrowed(self) -> bool:
        return self.customer_count > len(self.customers)


def _balance_of(customer: Customer) -> CustomerBalance | None:
    # select_related caches a missing reverse one-to-one, so this never queries; it raises instead.
    try:
        return customer.balance
    except ObjectDoesNotExist:
        return None


DASHBOARD_MAX_CUSTOMERS = 10  # above this the dashboard shows one customer (the switcher's) and links the overview


def dashboard_scope(*, scope: permissions.Scope, current_customer_id: int | None = None) -> permissions.Scope:
    """The part of the user's scope the dashboard shows: all of it, or for a user of more than
    DASHBOARD_MAX_CUSTOMERS customers (a property manager) one: the one chosen in the switcher, else the first by
    number; the overview shows them all."""
    if len(scope.customer_ids) <= DASHBOARD_MAX_CUSTOMERS:
        return scope
    if current_customer_id not in scope.customer_ids:
        current_customer_id = billing_selectors.customers_for(scope=scope).values_list("pk", flat=True).first()
    return scope.only(current_customer_id)


def dashboard_for(
    *,
    user: User,
    today: date,
    current_customer_id: int | None = None,
    scope: permissions.Scope | None = None,
    last_sync: SyncRun | None = None,
) -> Dashboard:
    """What the user sees first: balances of their customers, invoices to pay, recent payments, data freshness.

    The customers are those of dashboard_scope. A partial scope's balance is computed from the invoices of the
    granted points. `scope`: the user's, when the caller has read it already; `last_sync`: likewise.
    """
    scope = scope if scope is not None else permissions.scope_for(user=user)
    customer_count = len(scope.customer_ids)
    scope = dashboard_scope(scope=scope, current_customer_id=current_customer_id)
    last_sync = last_sync or billing_selectors.last_successful_sync()
    dues = billing_selectors.dues_by_point(scope=scope, today=today)
    customers = []
    for customer in billing_selectors.customers_with_balance(scope=scope):
        customer_dues = dues.get(customer.pk)
        if scope.is_partial(customer.pk):
            balance = PartialBalance(
                balance=customer_dues.outstanding if customer_dues else ZERO,
                overdue=customer_dues.overdue if customer_dues else ZERO,
                as_of=last_sync.finished_at if last_sync else None,
            )
        else:
            balance = _balance_of(customer)
        customers.append(CustomerSummary(customer=customer, balance=balance, dues=customer_dues))
    invoices = []
    # Nothing left to pay (dues_by_point reads the same unpaid documents): no need to ask which to pay first.
    for invoice in billing_selectors.invoices_to_pay(user=user, scope=scope) if dues else []:
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
        recent_payments=billing_selectors.recent_payments(user=user, scope=scope),
        last_sync=last_sync,
        today=today,
        customer_count=customer_count,
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


def overview_customers(*, scope: permissions.Scope, today: date, query: OverviewQuery) -> QuerySet[Customer]:
    """Every customer in the user's scope with its figures, as ONE query however many there are.

    Annotated per customer: balance_due and overdue_due (the billing system's saldo for a full scope; for a
    partial scope the outstanding of the invoices of the granted points only), next_due_date, open_cases and
    legalizations_expiring (meters of the visible points whose legalization ends within
    IBOK_LEGALIZATION_WARNING_DAYS, or has ended), is_partial. Each figure is a correlated subquery on indexed
    columns, its partial variant limited by accounts.permissions.granted_point_exists; the scope enters as
    subqueries on the user's accesses, never as lists of ids, so the SQL stays small for 500 properties.
    """
    user_id = scope.user_id
    full = permissions.access_exists(user_id=user_id, all_points=True)
    granted = permissions.granted_point_exists(user_id=user_id)

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
    customers = Customer.objects.filter(permissions.access_exists(user_id=user_id)).annotate(
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
        visible_points = points.filter(
            Q(permissions.access_exists(user_id=user_id, customer_ref="customer_id", all_points=True))
            | Q(permissions.granted_point_exists(user_id=user_id, point_ref="pk"))
        )
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


def manager_payable(*, scope: permissions.Scope, search: str = "") -> QuerySet[Invoice]:
    """Unpaid invoices of every customer in scope not already being paid, by customer then due date."""
    invoices = billing_selectors.invoices_payable(scope=scope)
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


def pay_batch(*, scope: permissions.Scope, references: list[str]) -> list[OnlinePayment]:
    """The online payments of one batch the user started (only those of customers still in scope)."""
    if not references:
        return []
    return list(
        OnlinePayment.objects.filter(reference__in=references[:500], customer_id__in=scope.customer_ids)
        .select_related("customer")
        .order_by("customer__number", "id")
    )
