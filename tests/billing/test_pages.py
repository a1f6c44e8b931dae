"""Invoices (filters, detail), settlements with a running balance and CSV, payments, transfer details, calendar."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from billing import services
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 21)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 11, 21, 12, 0)), tick=False):
        yield TODAY


@pytest.fixture
def documents(customer, point):
    """An overdue invoice, a partly paid one, a paid one and an unpaid one, a correction, a payment."""
    overdue = factories.InvoiceFactory(
        customer=customer, delivery_point=point, number="FV/1/2026", issue_date=date(2026, 9, 5)
    )
    partial = factories.InvoiceFactory(
        customer=customer, delivery_point=point, number="FV/2/2026", issue_date=date(2026, 11, 10),
        outstanding=Decimal("50.00"),
    )  # fmt: skip
    paid = factories.InvoiceFactory(
        customer=customer, delivery_point=point, number="FV/3/2026", issue_date=date(2026, 10, 5),
        outstanding=Decimal("0.00"),
    )  # fmt: skip
    unpaid = factories.InvoiceFactory(
        customer=customer, delivery_point=point, number="FV/4/2026", issue_date=date(2026, 11, 15)
    )
    correction = factories.InvoiceFactory(
        customer=customer, kind="CORRECTION", corrected_invoice=paid, number="FK/1/2026", issue_date=date(2026, 10, 20),
        net=Decimal("-10.00"), vat=Decimal("-0.80"), gross=Decimal("-10.80"), outstanding=Decimal("0.00"),
    )  # fmt: skip
    payment = factories.PaymentFactory(customer=customer, paid_date=date(2026, 10, 12), amount=Decimal("162.00"))
    factories.PaymentAllocationFactory(payment=payment, invoice=paid, amount=Decimal("162.00"))
    return {"overdue": overdue, "partial": partial, "paid": paid, "unpaid": unpaid, "correction": correction}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("OVERDUE", {"FV/1/2026"}),
        ("PARTIAL", {"FV/2/2026"}),
        ("UNPAID", {"FV/4/2026"}),
        ("PAID", {"FV/3/2026", "FK/1/2026"}),
    ],
)
def test_invoice_list_filters_by_status(client, customer_user, documents, status, expected):
    client.force_login(customer_user)

    response = client.get(reverse("billing:index"), {"status": status})

    assert {row["invoice"].number for row in response.context["rows"]} == expected


def test_invoice_list_filters_by_period_and_delivery_point(client, customer, customer_user, documents, point):
    other = factories.DeliveryPointFactory(customer=customer, contract=point.contract)
    factories.InvoiceFactory(
        customer=customer, delivery_point=other, number="FV/INNY-PUNKT", issue_date=date(2026, 11, 1)
    )
    client.force_login(customer_user)

    by_period = client.get(reverse("billing:index"), {"issued_from": "2026-10-01", "issued_to": "2026-10-31"})
    by_point = client.get(reverse("billing:index"), {"point": other.pk})

    assert {row["invoice"].number for row in by_period.context["rows"]} == {"FV/3/2026", "FK/1/2026"}
    assert [row["invoice"].number for row in by_point.context["rows"]] == ["FV/INNY-PUNKT"]


def test_a_reversed_period_is_reported_and_filters_nothing(client, customer_user, documents):
    client.force_login(customer_user)

    response = client.get(reverse("billing:index"), {"issued_from": "2026-11-01", "issued_to": "2026-10-01"})

    assert "Koniec okresu nie może być wcześniej niż jego początek." in response.content.decode()
    assert len(response.context["rows"]) == 5


def test_invoice_detail_shows_lines_vat_summary_and_the_payments_that_settled_it(client, customer_user, documents):
    paid = documents["paid"]
    factories.InvoiceLineFactory(invoice=paid, position=1, description="Dostawa wody")
    client.force_login(customer_user)

    response = client.get(reverse("billing:invoice-detail", kwargs={"invoice_id": paid.pk}))

    html = response.content.decode()
    assert "Dostawa wody" in html
    assert "Podsumowanie VAT" in html
    assert "12.10.2026" in html  # the payment that settled it
    assert "Zapłacona" in html or "Opłacona" in html or response.context["status"] == "PAID"


def test_settlements_run_a_balance_from_the_opening_one(client, customer_user, documents):
    client.force_login(customer_user)

    response = client.get(reverse("billing:settlements"), {"date_from": "2026-10-01", "date_to": "2026-11-30"})

    ledger = response.context["ledger"]
    assert ledger.opening == Decimal("162.00")  # FV/1 issued in September
    assert [(e.document, e.balance) for e in ledger.entries] == [
        ("FV/3/2026", Decimal("324.00")),
        (documents["paid"].payments.get().external_id, Decimal("162.00")),
        ("FK/1/2026", Decimal("151.20")),
        ("FV/2/2026", Decimal("313.20")),
        ("FV/4/2026", Decimal("475.20")),
    ]
    assert ledger.closing == Decimal("475.20")
    assert ledger.total_credit == Decimal("172.80")  # the payment and the correction, which lowers what is owed


def test_settlements_csv_is_a_polish_spreadsheet(client, customer_user, documents):
    client.force_login(customer_user)

    response = client.get(reverse("billing:settlements-csv"), {"date_from": "2026-10-01", "date_to": "2026-11-30"})

    text = response.getvalue().decode("utf-8-sig")
    rows = [line.split(";") for line in text.strip().splitlines()]
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert rows[0] == ["Data", "Dokument", "Opis", "Należność", "Wpłata", "Saldo"]
    assert rows[1][-1] == "162,00"
    assert rows[2][:2] == ["2026-10-05", "FV/3/2026"]
    assert rows[-1][-1] == "475,20"


def test_payment_history_shows_the_channel_and_what_each_payment_settled(client, customer_user, documents):
    client.force_login(customer_user)

    html = client.get(reverse("billing:payments")).content.decode()

    assert "Przelew" in html or "przelew" in html
    assert "FV/3/2026" in html


def test_transfer_details_show_the_checked_account_and_its_qr_code(client, customer, customer_user):
    customer.bank_account = "61109010140000071219812874"
    customer.save()
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("100.00"))
    client.force_login(customer_user)

    response = client.get(reverse("billing:transfer"))

    account = response.context["accounts"][0]
    assert account["valid"]
    assert account["qr"].startswith("data:image/svg+xml")
    assert "61 1090 1014 0000 0712 1981 2874" in response.content.decode()


def test_an_account_number_with_a_bad_checksum_is_not_offered(client, customer, customer_user):
    customer.bank_account = "61109010140000071219812875"
    customer.save()
    client.force_login(customer_user)

    response = client.get(reverse("billing:transfer"))

    assert not response.context["accounts"][0]["valid"]
    assert not response.context["accounts"][0]["qr"]
    assert "61 1090 1014 0000 0712 1981 2875" not in response.content.decode()


def test_calendar_feed_lists_due_dates_and_a_new_address_revokes_the_old(client, customer_user, documents):
    client.force_login(customer_user)
    client.post(reverse("billing:calendar"), {"issue": "1"})
    old = customer_user.calendar_feed.token

    feed = client.get(reverse("billing:calendar-feed", kwargs={"token": old}))
    client.post(reverse("billing:calendar"), {"issue": "1"})
    customer_user.calendar_feed.refresh_from_db()

    body = feed.content.decode()
    assert feed["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert "DTSTART;VALUE=DATE:20260919" in body  # FV/1's due date
    assert "Termin płatności: FV/4/2026" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert client.get(reverse("billing:calendar-feed", kwargs={"token": old})).status_code == 404
    assert customer_user.calendar_feed.token != old


def test_switching_the_calendar_off_removes_the_address(client, customer_user):
    feed = services.calendar_feed_issue(user=customer_user, now=timezone.now())
    client.force_login(customer_user)

    client.post(reverse("billing:calendar"), {"revoke": "1"})

    assert client.get(reverse("billing:calendar-feed", kwargs={"token": feed.token})).status_code == 404


def test_dashboard_shows_what_is_due_next_and_per_delivery_point(client, customer, customer_user, documents, point):
    other = factories.DeliveryPointFactory(customer=customer, contract=point.contract, code="PO-DRUGI")
    factories.InvoiceFactory(
        customer=customer, delivery_point=other, number="FV/5/2026", due_date=TODAY + timedelta(days=3)
    )
    factories.CustomerBalanceFactory(customer=customer, balance=Decimal("500.00"))
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    dues = response.context["customers"][0].dues
    assert dues.has_many_points
    assert dues.next_due_date == TODAY + timedelta(days=3)
    assert dues.overdue == Decimal("162.00")
    assert {p.point_code for p in dues.points} == {point.code, "PO-DRUGI"}
    assert "Najbliższa płatność" in response.content.decode()
    assert "PO-DRUGI" in response.content.decode()
