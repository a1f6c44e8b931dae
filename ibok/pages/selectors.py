"""Reads for the pages that combine apps, prepared so that templates run no queries."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ObjectDoesNotExist

from accounts.models import Customer, User
from billing import selectors as billing_selectors
from billing.models import CustomerBalance, Invoice, InvoiceStatus, Payment, SyncRun


@dataclass(frozen=True)
class CustomerSummary:
    customer: Customer
    balance: CustomerBalance | None  # None until the billing system has reported a saldo
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
class Dashboard:
    customers: list[CustomerSummary]
    invoices_to_pay: list[InvoiceRow]
    recent_payments: list[Payment]
    last_sync: SyncRun | None
    today: date

    @property
    def has_many_customers(self) -> bool:
        return len(self.customers) > 1


def _balance_of(customer: Customer) -> CustomerBalance | None:
    # select_related caches a missing reverse one-to-one, so this never queries; it raises instead.
    try:
        return customer.balance
    except ObjectDoesNotExist:
        return None


def dashboard_for(*, user: User, today: date) -> Dashboard:
    """What the user sees first: balances of their customers, invoices to pay, recent payments, data freshness."""
    scope = billing_selectors.scope_for(user=user)
    dues = billing_selectors.dues_by_point(scope=scope, today=today)
    customers = [
        CustomerSummary(customer=customer, balance=_balance_of(customer), dues=dues.get(customer.pk))
        for customer in billing_selectors.customers_with_balance(user=user)
    ]
    invoices = []
    for invoice in billing_selectors.invoices_to_pay(user=user, scope=scope):
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
        recent_payments=list(billing_selectors.recent_payments(user=user, scope=scope)),
        last_sync=billing_selectors.last_successful_sync(),
        today=today,
    )
