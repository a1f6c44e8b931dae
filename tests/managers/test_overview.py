"""The overview across all of a manager's properties: figures, filters, sorting, CSV, and a fixed query count."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AccessRole, Contract, Customer, CustomerAccess, DeliveryPoint
from billing.models import CustomerBalance, Invoice
from meters.models import Meter
from tests import factories
from tests.managers.world import login_user
from tickets.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def saturday_21_november():
    with time_machine.travel("2026-11-21 10:00 +01:00", tick=False):
        yield


# The overview's queries, whatever the number of customers: the user (1; the session comes from the cache), the
# user's scope (1, shared with the header), the customers' data version (1), the totals with the row count (1,
# cached under that version: not when nothing changed since), one page of rows (1), the navigation's unread cases
# badge (1). No session write within a minute of the last (the idle timeout's refresh).
OVERVIEW_QUERIES = 6
OVERVIEW_QUERIES_WARM = 5
# The CSV: the user (1), the scope (1), every row through one cursor (1).
CSV_QUERIES = 3
SYNCED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def rows_of(response) -> dict[str, Customer]:
    return {customer.number: customer for customer in response.context["page"].object_list}


def test_a_full_manager_sees_the_customer_s_saldo_and_a_partial_one_the_invoices_of_their_points(client, world):
    client.force_login(world.full_manager)
    full = rows_of(client.get(reverse("pages:manager-overview")))["500100"]
    client.force_login(world.partial_manager)
    partial = rows_of(client.get(reverse("pages:manager-overview")))["500100"]

    assert (full.balance_due, full.overdue_due, full.is_partial) == (Decimal("500.00"), Decimal("100.00"), False)
    # One invoice of 162,00 zł on the granted point, due 19 November: all of it overdue on the 21st.
    assert (partial.balance_due, partial.overdue_due, partial.is_partial) == (
        Decimal("162.00"),
        Decimal("162.00"),
        True,
    )
    assert (full.open_cases, partial.open_cases) == (2, 1)
    assert (full.legalizations_expiring, partial.legalizations_expiring) == (2, 1)


def test_the_next_due_date_is_the_earliest_one_not_yet_passed(client, world):
    factories.InvoiceFactory(customer=world.a.customer, delivery_point=world.a.points[0], due_date=date(2026, 12, 10))
    factories.InvoiceFactory(customer=world.a.customer, delivery_point=world.a.points[1], due_date=date(2026, 12, 1))
    client.force_login(world.partial_manager)

    row = rows_of(client.get(reverse("pages:manager-overview")))["500100"]

    assert row.next_due_date == date(2026, 12, 10)  # the 1 December invoice is of a point not granted


def test_a_customer_s_own_login_sees_only_their_customer(client, world):
    client.force_login(world.b.owner)

    response = client.get(reverse("pages:manager-overview"))

    assert list(rows_of(response)) == ["500200"]


@pytest.fixture
def manager_of_both(world):
    factories.CustomerAccessFactory(
        user=world.full_manager, customer=world.b.customer, role=AccessRole.MANAGER, all_points=True
    )
    CustomerBalance.objects.filter(customer=world.b.customer).update(balance=Decimal("0.00"), overdue=Decimal("0"))
    return world.full_manager


def test_only_overdue_customers_can_be_shown(client, world, manager_of_both):
    client.force_login(manager_of_both)

    response = client.get(reverse("pages:manager-overview"), {"show": "overdue"})

    assert list(rows_of(response)) == ["500100"]


def test_customers_are_found_by_the_address_of_a_delivery_point(client, world, manager_of_both):
    DeliveryPoint.objects.filter(pk=world.b.points[1].pk).update(street="ul. Kasztanowa")
    client.force_login(manager_of_both)

    response = client.get(reverse("pages:manager-overview"), {"q": "kasztan"})

    assert list(rows_of(response)) == ["500200"]


def test_customers_can_be_sorted_by_balance_descending(client, world, manager_of_both):
    client.force_login(manager_of_both)

    ascending = client.get(reverse("pages:manager-overview"), {"sort": "balance"})
    descending = client.get(reverse("pages:manager-overview"), {"sort": "-balance"})

    assert list(rows_of(ascending)) == ["500200", "500100"]
    assert list(rows_of(descending)) == ["500100", "500200"]
    assert 'aria-sort="descending"' in descending.content.decode()


def test_an_unknown_sort_or_filter_is_reported_not_guessed(client, world):
    client.force_login(world.full_manager)

    response = client.get(reverse("pages:manager-overview"), {"sort": "password", "show": "everything"})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"sort", "show"}
    assert list(rows_of(response)) == ["500100"]


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_the_overview_exports_to_csv_with_the_filters_applied(client, world, manager_of_both):
    client.force_login(manager_of_both)

    response = client.get(reverse("pages:manager-overview-csv"), {"show": "overdue"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming  # written while it is sent, 500 customers at a time
    rows = list(csv.reader(io.StringIO(csv_text(response)), delimiter=";"))
    assert rows[0][:2] == ["Nr odbiorcy", "Nazwa"]
    assert len(rows) == 2
    assert rows[1][0] == "500100"
    assert rows[1][4:6] == ["500,00", "100,00"]
    assert rows[1][7:9] == ["2", "2"]


def test_the_partial_manager_s_csv_row_counts_their_points_only(client, world):
    client.force_login(world.partial_manager)

    response = client.get(reverse("pages:manager-overview-csv"))

    row = list(csv.reader(io.StringIO(csv_text(response)), delimiter=";"))[1]
    assert row[3] == "Część punktów odbioru"
    assert row[4:6] == ["162,00", "162,00"]


def properties(manager, count: int) -> None:
    """`count` customers managed in full, each with a point, a saldo, an overdue invoice, a meter and a case."""
    start = Customer.objects.count()
    customers = Customer.objects.bulk_create(
        Customer(
            external_id=f"BULK-{start + i}",
            source_updated_at=SYNCED_AT,
            number=f"7{start + i:06d}",
            kind="HOUSING_COMMUNITY",
            name=f"Wspólnota {i}",
            street="ul. Długa",
            building=str(i),
            postal_code="37-700",
            city="Przemyśl",
        )
        for i in range(count)
    )
    contracts = Contract.objects.bulk_create(
        Contract(
            external_id=f"BULK-C-{c.pk}",
            source_updated_at=SYNCED_AT,
            customer=c,
            number=f"BULK/{c.pk}",
            kind="WATER_SEWAGE",
            signed_date=date(2020, 1, 1),
            valid_from=date(2020, 1, 1),
        )
        for c in customers
    )
    points = DeliveryPoint.objects.bulk_create(
        DeliveryPoint(
            external_id=f"BULK-P-{c.pk}",
            source_updated_at=SYNCED_AT,
            customer=c,
            contract=k,
            code=f"PO-B{c.pk:07d}",
            service="WATER",
            tariff_group="W1",
            street="ul. Długa",
            building=c.building,
            postal_code="37-700",
            city="Przemyśl",
        )
        for c, k in zip(customers, contracts, strict=True)
    )
    CustomerBalance.objects.bulk_create(
        CustomerBalance(
            customer=c,
            external_id=c.external_id,
            source_updated_at=SYNCED_AT,
            balance=10,
            overdue=5,
            as_of=SYNCED_AT,
        )
        for c in customers
    )
    Invoice.objects.bulk_create(
        factories.InvoiceFactory.build(
            customer=c, delivery_point=p, external_id=f"BULK-F-{c.pk}", number=f"FV/B/{c.pk}"
        )
        for c, p in zip(customers, points, strict=True)
    )
    Meter.objects.bulk_create(
        factories.MeterFactory.build(delivery_point=p, external_id=f"BULK-M-{p.pk}", serial_number=f"B{p.pk}")
        for p in points
    )
    Case.objects.bulk_create(factories.CaseFactory.build(customer=c) for c in customers)
    CustomerAccess.objects.bulk_create(
        CustomerAccess(user=manager, customer=c, role=AccessRole.MANAGER, all_points=True, granted_at=SYNCED_AT)
        for c in customers
    )


@pytest.mark.parametrize("count", [2, 500])
def test_the_overview_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    manager = login_user("zarzadca-500")
    properties(manager, count)
    client.force_login(manager)

    with django_assert_num_queries(OVERVIEW_QUERIES):
        response = client.get(reverse("pages:manager-overview"), {"sort": "-overdue", "q": "Długa"})
    with django_assert_num_queries(OVERVIEW_QUERIES_WARM):  # nothing changed: the totals from the cache
        again = client.get(reverse("pages:manager-overview"), {"sort": "-overdue", "q": "Długa"})

    assert response.status_code == again.status_code == 200
    assert again.context["totals"] == response.context["totals"]
    assert response.context["totals"].customers == count
    assert len(response.context["page"].object_list) == min(count, 50)
    assert response.context["totals"].overdue == Decimal("5.00") * count


@pytest.mark.parametrize("count", [2, 500])
def test_the_csv_export_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    manager = login_user("zarzadca-500")
    properties(manager, count)
    client.force_login(manager)

    with django_assert_num_queries(CSV_QUERIES):  # the rows are read while the response streams
        text = csv_text(client.get(reverse("pages:manager-overview-csv")))

    assert len(text.strip().splitlines()) == count + 1


def test_the_cached_totals_follow_a_change_of_a_customer_s_data(client, world, manager_of_both):
    client.force_login(manager_of_both)
    url = reverse("pages:manager-overview")
    before = client.get(url).context["totals"]
    balance = CustomerBalance.objects.get(customer=world.a.customer)

    balance.balance += Decimal("10.00")
    balance.save()  # a synced row saved on its own bumps its customer's data version (billing.versions)

    after = client.get(url).context["totals"]
    assert after.balance == before.balance + Decimal("10.00")
