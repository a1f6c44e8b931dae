"""The dashboard: what a signed-in customer sees first."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
# User (the session comes from the cache), the user's access scope (read once for the page and its header), the
# customers' data version (core.versions), what is due per delivery point, customers with balances, invoices to pay,
# recent payments, last sync (cached for everyone after that), current announcements (cached for everyone after
# that; their areas are one more query when there are any), the navigation's unread cases count. No session write:
# the idle timeout moves the session's expiry at most once a minute (tests/accounts/test_session_timeout.py), and the
# sign-in has just saved it. One more: the customers' payment plans in force (issue 21).
DASHBOARD_QUERIES = 11
# The same page again while the data has not changed: the balances, invoices and payments come from the cache.
DASHBOARD_WARM_QUERIES = 4


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("pages:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_customer_sees_own_number_and_debt_and_not_another_customers(client, customer, customer_user):
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("1234.56"), overdue=Decimal("200.00"))
    stranger = factories.CustomerFactory(number="999001", name="Obcy Odbiorca Sp. z o.o.")
    factories.InvoiceFactory(customer=stranger, number="FV/OBCA/2026")
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    html = response.content.decode()
    assert response.status_code == 200
    assert customer.number in html
    assert customer.name in html
    assert f"1{NBSP}234,56{NBSP}zł" in html
    assert f"200,00{NBSP}zł" in html
    assert "999001" not in html
    assert "Obcy Odbiorca" not in html
    assert "FV/OBCA/2026" not in html


def test_overpayment_is_shown_as_a_positive_amount(client, customer, customer_user):
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("-45.10"))
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    assert response.context["customers"][0].balance.is_overpayment
    assert f"45,10{NBSP}zł" in response.content.decode()
    assert f"-45,10{NBSP}zł" not in response.content.decode()


def test_customer_without_a_reported_balance_still_gets_the_page(client, customer, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    assert response.status_code == 200
    assert response.context["customers"][0].balance is None


def test_overdue_invoice_is_marked_with_its_days_past_due(client, customer, customer_user):
    today = timezone.localdate()
    factories.InvoiceFactory(customer=customer, number="FV/00001/10/2026", due_date=today - timedelta(days=3))
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    row = response.context["invoices_to_pay"][0]
    assert row.is_overdue
    assert row.days_overdue == 3
    assert "FV/00001/10/2026" in response.content.decode()


def test_paid_invoices_are_not_listed_to_pay(client, customer, customer_user):
    factories.InvoiceFactory(customer=customer, number="FV/ZAPLACONA", outstanding=Decimal("0.00"))
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    assert "FV/ZAPLACONA" not in response.content.decode()


def test_the_last_update_from_the_billing_system_is_shown(client, customer_user):
    factories.SyncRunFactory()
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    assert "Ostatnia aktualizacja z systemu rozliczeniowego" in response.content.decode()


def test_the_last_sync_is_read_once_for_everyone_and_again_after_the_next_sync(
    client, customer, customer_user, django_assert_num_queries
):
    factories.InvoiceFactory(customer=customer)  # something to pay: the dashboard runs all its queries
    earlier = factories.SyncRunFactory(finished_at=timezone.now() - timedelta(hours=2))
    client.force_login(customer_user)
    client.get(reverse("pages:dashboard"))  # reads the last sync and caches it

    with django_assert_num_queries(DASHBOARD_WARM_QUERIES):
        response = client.get(reverse("pages:dashboard"))
    assert response.context["last_sync"] == earlier

    newer = factories.SyncRunFactory()  # saving a run drops the cached one
    assert client.get(reverse("pages:dashboard")).context["last_sync"] == newer


@pytest.mark.parametrize("invoice_count", [1, 50])
def test_dashboard_runs_a_fixed_number_of_queries(
    client, customer, customer_user, django_assert_num_queries, invoice_count
):
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("100.00"))
    factories.InvoiceFactory.create_batch(invoice_count, customer=customer)
    factories.PaymentFactory.create_batch(invoice_count, customer=customer)
    factories.SyncRunFactory()
    client.force_login(customer_user)

    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("pages:dashboard"))

    assert response.status_code == 200


def test_a_customer_with_nothing_to_pay_costs_one_query_less(
    client, customer, customer_user, django_assert_num_queries
):
    factories.InvoiceFactory(customer=customer, number="FV/ZAPLACONA", outstanding=Decimal("0.00"))
    factories.PaymentFactory(customer=customer)
    client.force_login(customer_user)

    with django_assert_num_queries(DASHBOARD_QUERIES - 1):  # no "invoices to pay" query
        response = client.get(reverse("pages:dashboard"))

    assert response.context["invoices_to_pay"] == []
    assert "Nie masz faktur do zapłaty" in response.content.decode()
