"""Przelewy24's transaction/register as the real broker validates it: language, payer's e-mail, the address.

The sandbox broker (billing.payments.sandbox) carries the field rules of Przelewy24's REST API documentation, so a
registration the real broker would refuse is refused here too, and the portal must refuse first, clearly.
"""

from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from billing.models import OnlinePayment
from billing.payments import przelewy24, sandbox
from tests import factories
from tests.billing.conftest import SANDBOX_CRC, registration_from_redirect
from tests.core.test_settings import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db

LONG_EMAIL = "zarzad.wspolnoty.mieszkaniowej.slonecznej@administracja-osiedla.pl"  # 66 characters


@pytest.fixture
def unpaid_invoice(customer):
    return factories.InvoiceFactory(customer=customer, number="FV/00301/11/2026", net=Decimal("100.00"))


def a_registration(**changes) -> dict:
    registration = {
        "merchantId": 100001,
        "posId": 100001,
        "sessionId": "3f2c1d9e-0000-4000-8000-000000000001",
        "amount": 12345,
        "currency": "PLN",
        "description": "IBOK-261121-0A1B2C3D nr odbiorcy 0100206",
        "email": "jan.kowalski@example.pl",
        "country": "PL",
        "language": "pl",
        "urlReturn": "https://ibok.example.pl/billing/pay/IBOK-261121-0A1B2C3D/",
        "urlStatus": "https://ibok.example.pl/billing/broker/3f2c1d9e-0000-4000-8000-000000000001/",
    } | changes
    registration["sign"] = przelewy24.sign(przelewy24.REGISTER_SIGN_FIELDS, registration, SANDBOX_CRC)
    return registration


def pay(client, invoice, language: str = "pl"):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client.post(reverse("billing:pay"), {"invoices": [invoice.pk]}, HTTP_ACCEPT_LANGUAGE=language)


def test_the_sandbox_accepts_a_registration_the_broker_accepts():
    assert sandbox.transaction(sandbox.register(a_registration(), crc=SANDBOX_CRC))["language"] == "pl"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"language": "uk"}, "language"),
        ({"language": "ua"}, "language"),
        ({"email": ""}, "email"),
        ({"email": LONG_EMAIL}, "email"),
        ({"email": "nie-adres"}, "email"),
        ({"description": "x" * 1025}, "description"),
        ({"urlReturn": ""}, "urlReturn"),
        ({"country": "POL"}, "country"),
    ],
)
def test_the_sandbox_refuses_what_przelewy24_refuses(changes, field):
    with pytest.raises(sandbox.SandboxRefused, match=f"{field}:"):
        sandbox.register(a_registration(**changes), crc=SANDBOX_CRC)


@pytest.mark.parametrize(
    ("interface", "broker"), [("pl", "pl"), ("en", "en"), ("uk", "en"), ("de", "de"), ("", "pl"), ("ru", "pl")]
)
def test_the_interface_language_is_mapped_to_one_the_broker_has(interface, broker):
    assert przelewy24.broker_language(interface) == broker


@pytest.mark.parametrize(("language", "broker"), [("uk", "en"), ("en", "en"), ("pl", "pl")])
def test_a_payment_started_in_any_interface_language_is_registered_in_one_the_broker_has(
    client, customer_user, unpaid_invoice, language, broker
):
    client.force_login(customer_user)

    response = pay(client, unpaid_invoice, language)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert registration_from_redirect(response["Location"])["language"] == broker


def test_a_payer_with_a_long_sign_in_address_pays_with_the_customers_address(
    client, customer, customer_user, unpaid_invoice
):
    customer_user.email = LONG_EMAIL
    customer_user.save()
    client.force_login(customer_user)

    response = pay(client, unpaid_invoice)

    assert response.status_code == 302
    assert registration_from_redirect(response["Location"])["email"] == customer.email


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (LONG_EMAIL, "Przelewy24 przyjmuje adres e-mail o długości najwyżej 50 znaków"),
        ("", "Przelewy24 potrzebuje Twojego adresu e-mail"),
    ],
)
def test_without_an_address_the_broker_takes_the_payment_is_refused_clearly_and_nothing_is_started(
    client, customer, customer_user, unpaid_invoice, email, message
):
    customer.email = ""
    customer.save()
    customer_user.email = email
    customer_user.save()
    client.force_login(customer_user)

    response = pay(client, unpaid_invoice)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OnlinePayment.objects.exists()


def test_the_refusal_is_in_the_payers_language(client, customer, customer_user, unpaid_invoice):
    customer.email = ""
    customer.save()
    customer_user.email = LONG_EMAIL
    customer_user.save()
    client.force_login(customer_user)

    response = pay(client, unpaid_invoice, "uk")

    assert "Przelewy24 приймає адресу електронної пошти довжиною не більше 50 символів" in response.content.decode()


def test_a_broker_that_does_not_answer_gets_a_clear_message_instead_of_an_error_page(
    client, settings, customer_user, unpaid_invoice
):
    settings.GETPAID_BACKEND_SETTINGS = {
        "przelewy24": {
            "merchant_id": 100001,
            "pos_id": 100001,
            "crc": SANDBOX_CRC,
            "api_key": "api-key",
            "base_url": "http://127.0.0.1:9",  # the discard port: nothing listens there
            "transport": "http",
        }
    }
    client.force_login(customer_user)

    response = pay(client, unpaid_invoice)

    assert response.status_code == 200
    assert "Przelewy24 nie przyjął płatności" in response.content.decode()


def test_production_with_przelewy24s_sandbox_address_fails_the_deploy_check():
    env = PRODUCTION_ENV | {"IBOK_P24_URL": "https://sandbox.przelewy24.pl", "IBOK_P24_CRC": "production-crc"}

    result = manage("check", "--deploy", env=env)

    assert result.returncode != 0
    assert "billing.E002" in result.stdout + result.stderr


def test_production_with_the_bundled_sandbox_broker_fails_the_deploy_check():
    result = manage("check", "--deploy", env=PRODUCTION_ENV | {"IBOK_PAYMENT_SANDBOX": "1"})

    assert result.returncode != 0
    assert "billing.E001" in result.stdout + result.stderr


def test_production_pays_through_the_real_broker_by_default():
    result = manage("check", "--deploy", env=PRODUCTION_ENV | {"IBOK_P24_CRC": "production-crc"})

    assert result.returncode == 0, result.stdout + result.stderr
