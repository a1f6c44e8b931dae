"""The billing pages run a fixed number of SQL queries however long the customer's history is."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, Payment, PaymentAllocation
from tests import factories

pytestmark = pytest.mark.django_db

# Every page: the user and the user's access scope (read once for the page and its header); the navigation's
# unread-cases count. The session comes from the cache; no session write within a minute of the last (the idle
# timeout's refresh).
FRAME = 3
# The pages cached under the customers' data version (core.versions) read the version first: on a warm cache that
# is all they read.
VERSION = 1
QUERIES = {
    # points for the filter, count, one page of invoices (each knows whether a payment is in progress)
    "billing:index": FRAME + VERSION + 3,
    # customers, their points for the filter, opening balance (documents and payments), documents and payments of
    # the period (read whole for the running balance; one page of it is rendered)
    "billing:settlements": FRAME + VERSION + 6,
    # count, one page of payments, what they settled, online payments in progress
    "billing:payments": FRAME + 4,
    # what is due per point, customers with balances, invoices to pay, recent payments; the last sync and the
    # announcements (cached for everyone, read here once); the customers' payment plans in force (issue 21)
    "pages:dashboard": FRAME + VERSION + 4 + 2 + 1,
}
WARM = {"billing:index": FRAME + VERSION, "billing:settlements": FRAME + VERSION, "pages:dashboard": FRAME + VERSION}


def history(customer, point, count: int) -> None:
    """`count` monthly invoices, each paid by a payment a week later, the last three unpaid (bulk, for speed)."""
    today = timezone.localdate()
    invoices = []
    for n in range(count):
        issued = today - timedelta(days=30 * (count - n))
        unpaid = n >= count - 3
        invoices.append(
            Invoice(
                external_id=f"HIST-{customer.pk}-{n}",
                source_updated_at=timezone.now(),
                customer=customer,
                delivery_point=point,
                number=f"FV/{customer.pk}/{n:05d}",
                issue_date=issued,
                due_date=issued + timedelta(days=14),
                period_start=issued - timedelta(days=30),
                period_end=issued,
                net=Decimal("100.00"),
                vat=Decimal("8.00"),
                gross=Decimal("108.00"),
                outstanding=Decimal("108.00") if unpaid else Decimal("0.00"),
            )
        )
    Invoice.objects.bulk_create(invoices)
    payments = [
        Payment(
            external_id=f"HIST-WPL-{customer.pk}-{n}",
            source_updated_at=timezone.now(),
            customer=customer,
            paid_date=invoice.issue_date + timedelta(days=7),
            amount=Decimal("108.00"),
            channel="TRANSFER",
            title=f"Opłata {invoice.number}",
        )
        for n, invoice in enumerate(invoices[:-3])
    ]
    Payment.objects.bulk_create(payments)
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(payment=payment, invoice=invoice, amount=Decimal("108.00"))
        for payment, invoice in zip(payments, invoices, strict=False)
    )


@pytest.mark.parametrize("count", [10, 1000])
@pytest.mark.parametrize("name", list(QUERIES))
def test_page_runs_a_fixed_number_of_queries(client, customer, customer_user, django_assert_num_queries, count, name):
    history(customer, customer.delivery_points.get(), count)
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("324.00"))
    factories.SyncRunFactory()
    client.force_login(customer_user)
    today = timezone.localdate()
    # Settlements over the longest period allowed (20 years); what is older is the opening balance.
    params = {"date_from": date(today.year - 19, 1, 1), "date_to": today} if name == "billing:settlements" else {}

    with django_assert_num_queries(QUERIES[name]):
        response = client.get(reverse(name), params)

    assert response.status_code == 200
    assert "FV/" in response.content.decode()


@pytest.mark.parametrize("count", [10, 1000])
@pytest.mark.parametrize("name", list(WARM))
def test_cached_page_reads_only_the_data_version(
    client, customer, customer_user, django_assert_num_queries, count, name
):
    history(customer, customer.delivery_points.get(), count)
    factories.SyncRunFactory()
    client.force_login(customer_user)
    first = client.get(reverse(name))

    with django_assert_num_queries(WARM[name]):
        again = client.get(reverse(name))

    assert without_csrf(again) == without_csrf(first)
    assert "FV/" in again.content.decode()


def without_csrf(response) -> str:
    """The page without its CSRF token, which Django masks anew in every response."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
