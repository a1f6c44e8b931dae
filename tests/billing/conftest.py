"""Fixtures of the billing tests: the sandbox payment broker switched on, a second customer to stay away from."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress

from billing.payments import przelewy24, sandbox
from tests import factories

SANDBOX_CRC = "test-crc-key"  # the shop's secret shared with the broker


@pytest.fixture(autouse=True)
def sandbox_broker(settings, tmp_path):
    """Payments go to the bundled sandbox broker (the embedded default); PDFs into a throw-away folder."""
    settings.IBOK_PAYMENT_SANDBOX = True
    settings.IBOK_PAYMENT_FEE = Decimal("1.00")
    settings.GETPAID_BACKEND_SETTINGS = {
        "przelewy24": {
            "merchant_id": 100001,
            "pos_id": 100001,
            "crc": SANDBOX_CRC,
            "api_key": "",
            "base_url": "https://sandbox.przelewy24.pl",
            "transport": "sandbox",
        }
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.GETPAID_BACKEND_SETTINGS["przelewy24"]


def login_user_for(customer, **access):
    user = factories.UserFactory(username=f"u{customer.number}", email=f"{customer.number}@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer, **access)
    return user


@pytest.fixture
def point(customer):
    return customer.delivery_points.get()


@pytest.fixture
def stranger(db):
    """Another household: its own point, invoice with a line, payment and a login."""
    point = factories.DeliveryPointFactory(customer__number="999001", customer__name="Obcy Odbiorca")
    invoice = factories.InvoiceFactory(customer=point.customer, delivery_point=point, number="FV/OBCA/11/2026")
    factories.InvoiceLineFactory(invoice=invoice, position=1)
    factories.PaymentAllocationFactory(payment__customer=point.customer, invoice=invoice, amount=Decimal("10.00"))
    point.customer.user = login_user_for(point.customer)
    point.customer.invoice = invoice
    return point.customer


def signed_notification(registration: dict, *, crc: str = SANDBOX_CRC, order_id: int = 317000001, **changes) -> dict:
    """The notification Przelewy24 (here: its sandbox) sends after a payment; `changes` tamper with it."""
    body = {
        "merchantId": registration["merchantId"],
        "posId": registration["posId"],
        "sessionId": registration["sessionId"],
        "amount": registration["amount"],
        "originAmount": registration["amount"],
        "currency": registration["currency"],
        "orderId": order_id,
        "methodId": 154,
        "statement": f"p24-{order_id}",
    }
    body["sign"] = przelewy24.sign(przelewy24.NOTIFICATION_SIGN_FIELDS, body, crc)
    body.update(changes)
    return body


def registration_from_redirect(location: str) -> dict:
    """What the portal registered with the broker, read back from the broker page's address."""
    token = location.rstrip("/").rsplit("/", 1)[-1]
    return sandbox.transaction(token)
