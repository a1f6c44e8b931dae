"""The history pages cost what they show: a customer with thousands of documents, payments or delivery points gets
pages of the same order of size, from the same queries, as one with twenty; "show more" pages them keeping the
filters; the settlements' CSV stays whole; the consumption page reads only the customer's meters."""

import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, Payment, PaymentAllocation
from meters.models import Meter
from tests import factories
from tests.billing.conftest import login_user_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
WHOLE_HISTORY = {"date_from": f"{TODAY.year - 19}-01-01", "date_to": f"{TODAY:%Y-%m-%d}"}


def documents(customer, points, count: int, *, settled_by_one: int = 0) -> list[Invoice]:
    """`count` invoices, monthly or, when there are too many for that, spread over the last 18 years across
    `points`, each paid by its own payment a week later (bulk, for speed); with `settled_by_one`, one more payment
    settles that many of them at once (a housing community's transfer)."""
    step = max(1, min(30, (18 * 365) // count))
    invoices = Invoice.objects.bulk_create(
        Invoice(
            external_id=f"H-{customer.pk}-{n}",
            source_updated_at=timezone.now(),
            customer=customer,
            delivery_point=points[n % len(points)],
            number=f"FV/{customer.pk}/{n:05d}",
            issue_date=TODAY - timedelta(days=step * (count - n)),
            due_date=TODAY - timedelta(days=step * (count - n) - 14),
            net=Decimal("100.00"),
            vat=Decimal("8.00"),
            gross=Decimal("108.00"),
            outstanding=Decimal("0.00"),
        )
        for n in range(count)
    )
    payments = Payment.objects.bulk_create(
        Payment(
            external_id=f"H-WPL-{customer.pk}-{n}",
            source_updated_at=timezone.now(),
            customer=customer,
            paid_date=invoice.issue_date + timedelta(days=7),
            amount=Decimal("108.00"),
            channel="TRANSFER",
            title=f"Opłata {invoice.number}",
        )
        for n, invoice in enumerate(invoices)
    )
    allocations = [
        PaymentAllocation(payment=payment, invoice=invoice, amount=Decimal("108.00"))
        for payment, invoice in zip(payments, invoices, strict=True)
    ]
    if settled_by_one:
        big = Payment.objects.create(
            external_id=f"H-ZBIORCZA-{customer.pk}",
            source_updated_at=timezone.now(),
            customer=customer,
            paid_date=TODAY,
            amount=Decimal("1.00") * settled_by_one,
            channel="TRANSFER",
            title="Przelew zbiorczy wspólnoty",
        )
        allocations += [
            PaymentAllocation(payment=big, invoice=invoice, amount=Decimal("1.00"))
            for invoice in invoices[-settled_by_one:]
        ]
    PaymentAllocation.objects.bulk_create(allocations)
    return invoices


def points_of(customer, count: int) -> list:
    first = customer.delivery_points.get()
    return [first] + [
        factories.DeliveryPointFactory(customer=customer, contract=first.contract) for _ in range(count - 1)
    ]


@pytest.fixture
def small(customer, customer_user, client):
    """A household: one point, twenty documents and their payments."""
    documents(customer, points_of(customer, 1), 20)
    return customer_user


@pytest.fixture
def large(db):
    """A housing community: 40 points, 2,000 documents and payments, one payment settling 120 invoices."""
    point = factories.DeliveryPointFactory(customer__number="777001", customer__name="Wspólnota Mieszkaniowa")
    customer = point.customer
    documents(customer, points_of(customer, 40), 2000, settled_by_one=120)
    return login_user_for(customer)


def measure(client, user, name: str, params: dict | None = None) -> tuple[int, int, str]:
    """(size in bytes, queries, HTML) of one cold request of the page."""
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name), params or {})
    assert response.status_code == 200
    return len(response.content), len(queries.captured_queries), response.content.decode()


@pytest.mark.parametrize(
    ("name", "params"),
    [("billing:settlements", {}), ("billing:settlements", WHOLE_HISTORY), ("billing:payments", {})],
)
def test_a_long_history_gets_a_page_of_the_same_order_from_the_same_queries(client, small, large, name, params):
    small_size, small_queries, _ = measure(client, small, name, params)
    large_size, large_queries, html = measure(client, large, name, params)

    assert large_size < 3 * small_size, (large_size, small_size)
    assert large_queries == small_queries
    assert "Pokaż więcej" in html


def test_the_meters_page_shows_ten_points_at_a_time_and_collapses_removed_meters(client, customer, customer_user):
    many = points_of(customer, 35)
    for n, point in enumerate(many):
        factories.MeterFactory(delivery_point=point)
        if n % 2:
            factories.MeterFactory(delivery_point=point, removed_date=date(2023, 1, 1))
    few_customer = factories.DeliveryPointFactory().customer
    factories.MeterFactory(delivery_point=few_customer.delivery_points.get())
    factories.MeterFactory(delivery_point=few_customer.delivery_points.get(), removed_date=date(2023, 1, 1))

    few_size, few_queries, _ = measure(client, login_user_for(few_customer), "meters:index")
    many_size, many_queries, html = measure(client, customer_user, "meters:index")

    assert html.count('class="card meters-point"') == 10
    assert many_queries == few_queries
    assert many_size < 12 * few_size  # ten points against one, never thirty-five
    removed = re.findall(r'<details class="meters-removed">.*?</details>', html, re.S)
    assert removed and all("Zdemontowany 01.01.2023" in block for block in removed)
    assert html.count("Zdemontowany 01.01.2023") == sum(block.count("Zdemontowany") for block in removed)
    last = client.get(reverse("meters:index"), {"page": 4}).content.decode()
    assert last.count('class="card meters-point"') == 5
    assert "Pokaż więcej" not in last


def show_more(html: str) -> dict[str, list[str]]:
    href = re.search(r'<a href="([^"]+)"\s+rel="next">Pokaż więcej</a>', html).group(1)
    return parse_qs(urlsplit(unescape(href)).query)


def test_show_more_keeps_the_period_and_the_point_and_shows_the_next_older_entries(client, large):
    customer = large.customer_accesses.get().customer
    point = customer.delivery_points.order_by("id")[3]
    filters = {**WHOLE_HISTORY, "point": point.pk}
    client.force_login(large)

    first = client.get(reverse("billing:settlements"), filters)
    query = show_more(first.content.decode())
    second = client.get(reverse("billing:settlements"), {key: values[0] for key, values in query.items()})

    assert query == {
        "date_from": [filters["date_from"]],
        "date_to": [filters["date_to"]],
        "point": [str(point.pk)],
        "page": ["2"],
    }
    first_entries = first.context["page"].object_list
    second_entries = second.context["page"].object_list
    assert len(first_entries) == len(second_entries) == 50
    assert first_entries[-1].on >= second_entries[0].on  # the latest first, then older ones
    numbers = {e.document for e in first_entries + second_entries if e.invoice_id}
    own = set(Invoice.objects.filter(delivery_point=point).values_list("number", flat=True))
    assert numbers and numbers <= own  # the point's documents only
    assert second.context["ledger"].point_id == point.pk


def test_the_payments_show_more_link_pages_and_each_payment_keeps_its_invoices_behind_a_summary(client, large):
    client.force_login(large)

    first = client.get(reverse("billing:payments")).content.decode()
    second = client.get(reverse("billing:payments"), {"page": show_more(first)["page"][0]}).content.decode()

    assert first.count("<details") == 25
    assert "120 faktur" in first  # the community's transfer, collapsed
    community_transfer = Payment.objects.get(title__contains="zbiorczy")
    detail_link = reverse("billing:payment-detail", kwargs={"payment_id": community_transfer.pk})
    assert detail_link in first
    assert first.count("FV/") <= 25 * 5 + 5
    assert second.count("<details") == 25
    assert set(re.findall(r"Opłata (FV/\S+)<", first)).isdisjoint(re.findall(r"Opłata (FV/\S+)<", second))
    detail = client.get(detail_link).content.decode()
    invoice_links = reverse("billing:invoice-detail", kwargs={"invoice_id": 1}).removesuffix("1/")
    assert detail.count(f'href="{invoice_links}') == 120


def test_the_settlements_csv_is_the_whole_period_never_a_page(client, large):
    client.force_login(large)

    response = client.get(reverse("billing:settlements-csv"), WHOLE_HISTORY)

    assert response.streaming
    rows = response.getvalue().decode("utf-8-sig").strip().splitlines()
    ledger = client.get(reverse("billing:settlements"), WHOLE_HISTORY).context["ledger"]
    assert len(rows) == len(ledger.entries) + 3  # head, opening and closing balance
    assert len(ledger.entries) > 3900
    assert rows[-1].split(";")[-1] == f"{ledger.closing:.2f}".replace(".", ",")


def test_a_point_of_another_customer_is_refused_with_a_message_and_shows_nothing(client, small, large):
    strangers_point = large.customer_accesses.get().customer.delivery_points.first()
    client.force_login(small)

    response = client.get(reverse("billing:settlements"), {**WHOLE_HISTORY, "point": strangers_point.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["ledger"] is None
    assert "Wybierz poprawną wartość" in html or "Wybierz punkt odbioru" in html
    assert "FV/" not in html
    assert client.get(reverse("billing:settlements-csv"), {"point": strangers_point.pk}).status_code == 404


def test_the_consumption_page_reads_only_the_customers_meters(client, customer, customer_user):
    mine = points_of(customer, 3)
    for point in mine:
        factories.MeterFactory(delivery_point=point)
    others = factories.MeterFactory.create_batch(30)  # other customers' meters, each at its own point
    client.force_login(customer_user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("meters:consumption"))

    assert response.status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if re.search(r'FROM "meters_meter"', q["sql"])]
    assert len(reads) == 1
    sql = reads[0]
    assert "JOIN" not in sql  # restricted first, never joined to every point
    ids = {int(i) for i in re.search(r'"delivery_point_id" IN \(([^)]*)\)', sql).group(1).split(",")}
    assert ids == {point.pk for point in mine}
    assert not ids & {meter.delivery_point_id for meter in others}
    plan = explain(sql)
    assert plan_rows(plan) <= Meter.objects.filter(delivery_point__in=mine).count() + 3, plan


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE meters_meter")  # the planner's statistics of this test's rows
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_rows(plan: str) -> int:
    """The planner's estimate of the rows the read returns (its top node)."""
    return int(re.search(r"rows=(\d+)", plan).group(1))


def test_a_point_of_the_users_other_customer_is_refused_for_this_one(client, customer, customer_user):
    other = factories.DeliveryPointFactory(customer__number="777002")
    factories.CustomerAccessFactory(user=customer_user, customer=other.customer)
    documents(other.customer, [other], 20)
    client.force_login(customer_user)

    response = client.get(reverse("billing:settlements"), {**WHOLE_HISTORY, "customer": customer.pk, "point": other.pk})

    assert response.context["ledger"] is None
    assert "Wybierz punkt odbioru wybranego odbiorcy." in response.content.decode()
    assert "FV/" not in response.content.decode()
