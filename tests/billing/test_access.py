"""Customer A never reads customer B's invoices, PDFs, payments, online payments or calendar: every URL of the app."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services
from tests import factories
from tests.billing.conftest import login_user_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def strangers_online_payment(stranger):
    broker_payment = services.online_payment_start(
        user=stranger.user,
        customer=stranger,
        invoices=[stranger.invoice],
        amount=None,
        fee=Decimal("1.00"),
        now=timezone.now(),
    )
    return broker_payment.order


def test_every_url_of_the_app_is_covered_here():
    """A new URL must join the lists below (the 404 test or the list-page test)."""
    from billing.urls import urlpatterns

    names = {pattern.name for pattern in urlpatterns}
    assert names == {
        "index",
        "invoice-detail",
        "invoice-pdf",
        "settlements",
        "settlements-csv",
        "payments",
        "payment-detail",
        "transfer",
        "pay",
        "online-payment-detail",
        "broker-notification",
        "sandbox-broker",
        "calendar",
        "calendar-feed",
        "refund",  # tests/billing/test_refund.py: another customer's number is refused, their page shows only theirs
        "refund-submit",
        "forecast",  # tests/billing/test_forecast.py: another customer's is 404
        "payment-plan",  # tests/billing/test_payment_plans.py: another customer's is 404
    }


@pytest.mark.parametrize("name", ["invoice-detail", "invoice-pdf"])
def test_another_customers_invoice_and_pdf_are_not_found(client, customer_user, stranger, name):
    client.force_login(customer_user)

    response = client.get(reverse(f"billing:{name}", kwargs={"invoice_id": stranger.invoice.pk}))

    assert response.status_code == 404


def test_another_customers_payment_is_not_found(client, customer_user, stranger):
    client.force_login(customer_user)
    payment = stranger.payments.get()

    response = client.get(reverse("billing:payment-detail", kwargs={"payment_id": payment.pk}))

    assert response.status_code == 404
    assert client.get(reverse("billing:payment-detail", kwargs={"payment_id": payment.pk + 1000})).status_code == 404


def test_another_customers_online_payment_is_not_found(client, customer_user, strangers_online_payment):
    client.force_login(customer_user)

    url = reverse("billing:online-payment-detail", kwargs={"reference": strangers_online_payment.reference})

    assert client.get(url).status_code == 404


def test_a_calendar_address_that_is_not_yours_is_not_found(client, customer_user, stranger):
    feed = services.calendar_feed_issue(user=stranger.user, now=timezone.now())
    client.force_login(customer_user)

    altered = ("y" if feed.token[0] == "x" else "x") + feed.token[1:]  # one character off, never the token itself
    assert client.get(reverse("billing:calendar-feed", kwargs={"token": altered})).status_code == 404
    assert client.get(reverse("billing:calendar-feed", kwargs={"token": "guess"})).status_code == 404


def test_your_calendar_never_lists_another_customers_invoices(client, customer, customer_user, stranger):
    factories.InvoiceFactory(customer=customer, number="FV/MOJA/11/2026")
    feed = services.calendar_feed_issue(user=customer_user, now=timezone.now())

    body = client.get(reverse("billing:calendar-feed", kwargs={"token": feed.token})).content.decode()

    assert "FV/MOJA/11/2026" in body
    assert "FV/OBCA/11/2026" not in body


def test_a_broker_notification_for_an_unknown_payment_is_not_found(client):
    url = reverse("billing:broker-notification", kwargs={"pk": "6f1c1c52-5e0c-4f0e-9d7c-000000000000"})

    response = client.post(url, data=json.dumps({"sign": "x"}), content_type="application/json")

    assert response.status_code == 404


def test_the_sandbox_broker_page_needs_a_token_the_portal_signed(client, customer_user):
    client.force_login(customer_user)

    assert client.get(reverse("billing:sandbox-broker", kwargs={"token": "forged.token"})).status_code == 404


@pytest.mark.parametrize("name", ["index", "settlements", "settlements-csv", "payments", "transfer", "pay", "refund"])
def test_list_pages_never_show_another_customers_data(client, customer, customer_user, stranger, name):
    factories.InvoiceFactory(customer=customer, number="FV/MOJA/11/2026")
    client.force_login(customer_user)

    response = client.get(reverse(f"billing:{name}"))

    body = response.getvalue().decode()  # the settlements' CSV is streamed
    assert response.status_code == 200
    assert "FV/OBCA/11/2026" not in body
    assert "999001" not in body
    assert "Obcy Odbiorca" not in body


@pytest.mark.parametrize("name", ["customer", "pay"])
def test_choosing_another_customer_is_refused(client, customer_user, stranger, name):
    client.force_login(customer_user)

    if name == "customer":
        response = client.get(
            reverse("billing:settlements"),
            {"date_from": "2020-01-01", "date_to": "2026-12-31", "customer": stranger.pk},
        )
        assert "FV/OBCA/11/2026" not in response.content.decode()
    else:
        response = client.post(reverse("billing:pay"), {"amount": "10,00", "customer": stranger.pk})
        assert response.status_code == 200
        assert not stranger.online_payments.exists()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("index", {}),
        ("settlements", {}),
        ("payments", {}),
        ("transfer", {}),
        ("pay", {}),
        ("calendar", {}),
        ("invoice-detail", {"invoice_id": 1}),
        ("invoice-pdf", {"invoice_id": 1}),
        ("payment-detail", {"payment_id": 1}),
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(client, name, kwargs):
    response = client.get(reverse(f"billing:{name}", kwargs=kwargs))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_manager_of_some_points_sees_only_their_documents(client, customer):
    granted = customer.delivery_points.get()
    other = factories.DeliveryPointFactory(customer=customer, contract=granted.contract)
    factories.InvoiceFactory(customer=customer, delivery_point=granted, number="FV/PUNKT-A/2026")
    hidden = factories.InvoiceFactory(customer=customer, delivery_point=other, number="FV/PUNKT-B/2026")
    factories.InvoiceFactory(customer=customer, delivery_point=None, number="FV/CALY-KLIENT/2026")
    manager = login_user_for(customer, role="MANAGER", all_points=False)
    manager.customer_accesses.get().points.add(granted)
    client.force_login(manager)

    listed = client.get(reverse("billing:index")).content.decode()

    assert "FV/PUNKT-A/2026" in listed
    assert "FV/PUNKT-B/2026" not in listed
    assert "FV/CALY-KLIENT/2026" not in listed
    assert client.get(reverse("billing:invoice-detail", kwargs={"invoice_id": hidden.pk})).status_code == 404
    assert client.get(reverse("billing:invoice-pdf", kwargs={"invoice_id": hidden.pk})).status_code == 404


def test_a_manager_of_some_points_sees_only_the_parts_of_payments_that_settled_them(client, customer):
    granted = customer.delivery_points.get()
    other = factories.DeliveryPointFactory(customer=customer, contract=granted.contract)
    mine = factories.InvoiceFactory(customer=customer, delivery_point=granted, number="FV/PUNKT-A/2026")
    theirs = factories.InvoiceFactory(customer=customer, delivery_point=other, number="FV/PUNKT-B/2026")
    payment = factories.PaymentFactory(customer=customer, amount=Decimal("300.00"), paid_date=timezone.localdate())
    factories.PaymentAllocationFactory(payment=payment, invoice=mine, amount=Decimal("100.00"))
    factories.PaymentAllocationFactory(payment=payment, invoice=theirs, amount=Decimal("200.00"))
    factories.PaymentFactory(customer=customer, title="Wpłata bez rozliczenia")
    manager = login_user_for(customer, role="MANAGER", all_points=False)
    manager.customer_accesses.get().points.add(granted)
    client.force_login(manager)

    payments = client.get(reverse("billing:payments")).content.decode()
    ledger = client.get(
        reverse("billing:settlements"),
        {
            "date_from": f"{timezone.localdate() - timedelta(days=400):%Y-%m-%d}",
            "date_to": f"{timezone.localdate():%Y-%m-%d}",
        },
    ).context["ledger"]

    detail = client.get(reverse("billing:payment-detail", kwargs={"payment_id": payment.pk})).content.decode()

    assert "FV/PUNKT-A/2026" in payments
    assert "FV/PUNKT-B/2026" not in payments
    assert "Wpłata bez rozliczenia" not in payments
    assert "FV/PUNKT-A/2026" in detail
    assert "FV/PUNKT-B/2026" not in detail
    assert "300,00" not in detail  # the manager's part only, never the whole payment
    assert ledger.partial
    assert ledger.total_credit == Decimal("100.00")
