"""Sessions: an absolute lifetime beside the idle timeout; sensitive changes ask for the password again after
five minutes; __Host- cookies in production."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import ContactChange
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
START = "2026-11-21 10:00 +01:00"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def signed_in(client, customer_user, clock):
    response = client.post(reverse("account_login"), {"login": customer_user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def dashboard_status(client) -> int:
    return client.get(reverse("pages:dashboard")).status_code


def test_an_active_session_ends_at_its_absolute_lifetime(signed_in, clock, settings):
    settings.IBOK_SESSION_MAX_AGE_SECONDS = 60 * 60
    for _ in range(5):  # a request every ten minutes: the idle timeout (15 minutes) never strikes
        clock.shift(timedelta(minutes=10))
        assert dashboard_status(signed_in) == 200

    clock.shift(timedelta(minutes=10))  # an hour after the sign-in

    response = signed_in.get(reverse("pages:dashboard"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("account_login"))
    assert "Sesja wygasła. Zaloguj się ponownie." in response.content.decode()
    assert "_auth_user_id" not in signed_in.session


def test_the_default_absolute_lifetime_is_twelve_hours(settings):
    assert settings.IBOK_SESSION_MAX_AGE_SECONDS == 12 * 60 * 60


def contact_data(customer) -> dict:
    return {
        "customer": customer.pk,
        "street": "Nowa",
        "building": "5",
        "apartment": "",
        "postal_code": "00-001",
        "city": "Warszawa",
        "phone": "+48600100200",
    }


def test_changing_the_sms_phone_soon_after_signing_in_needs_no_password(signed_in, clock, customer):
    clock.shift(timedelta(minutes=4))

    response = signed_in.post(reverse("accounts:contact-update"), contact_data(customer))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:settings")
    assert ContactChange.objects.count() == 1


def test_changing_the_sms_phone_later_asks_for_the_password_then_carries_the_change_out(
    signed_in, clock, customer, customer_user
):
    clock.shift(timedelta(minutes=6))

    asked = signed_in.post(reverse("accounts:contact-update"), contact_data(customer))

    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    assert not ContactChange.objects.exists()
    wrong = signed_in.post(asked["Location"], {"password": "Nie-to-haslo-2026"})
    assert wrong.status_code == 200
    assert not ContactChange.objects.exists()

    confirmed = signed_in.post(asked["Location"], {"password": factories.PASSWORD})

    assert confirmed.status_code == 302
    customer_user.refresh_from_db()
    assert str(customer_user.phone) == "+48600100200"
    assert ContactChange.objects.count() == 1


def test_adding_an_email_address_later_asks_for_the_password(signed_in, clock, customer_user):
    clock.shift(timedelta(minutes=6))

    asked = signed_in.post(reverse("account_email"), {"action_add": "", "email": "nowy@example.pl"})

    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="nowy@example.pl").exists()

    signed_in.post(asked["Location"], {"password": factories.PASSWORD})

    assert EmailAddress.objects.filter(user=customer_user, email="nowy@example.pl").exists()


def test_changing_the_password_asks_for_the_current_one(signed_in, customer_user):
    new = "Zielony ogród nad Wisłą"

    refused = signed_in.post(
        reverse("account_change_password"), {"oldpassword": "Zgadywane-2026", "password1": new, "password2": new}
    )

    assert refused.status_code == 200
    customer_user.refresh_from_db()
    assert customer_user.check_password(factories.PASSWORD)


def production_setting(*names: str) -> list[str]:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "ibok.settings",
        "DJANGO_SECRET_KEY": "production-like-secret-key-for-the-cookie-names-0123456789",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    }
    code = f"from django.conf import settings; print(' '.join(str(getattr(settings, n)) for n in {names!r}))"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_cookies_carry_the_host_prefix_and_are_secure():
    session, csrf, session_secure, csrf_secure, domain = production_setting(
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_DOMAIN",
    )

    assert session.startswith("__Host-")
    assert csrf.startswith("__Host-")
    assert (session_secure, csrf_secure, domain) == ("True", "True", "None")
