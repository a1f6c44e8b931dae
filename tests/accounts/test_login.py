"""Sign-in by customer number or e-mail, throttling, login history, idle timeout, password flows, second factor."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import LoginEvent
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = factories.PASSWORD


def sign_in(client, login, password=PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **extra)


@pytest.fixture
def two_customer_user(customer_user):
    """Customer 1000xx who also owns a second customer number."""
    second = factories.CustomerFactory(number="777123")
    factories.CustomerAccessFactory(user=customer_user, customer=second)
    return customer_user


def test_login_form_says_customer_number_or_email(client):
    response = client.get(reverse("account_login"))

    assert "Numer odbiorcy lub e-mail" in response.content.decode()


@pytest.mark.parametrize("login", ["username", "email", "second_customer_number"])
def test_customer_signs_in_with_number_email_or_another_owned_number(client, two_customer_user, login):
    value = {
        "username": two_customer_user.username,
        "email": two_customer_user.email,
        "second_customer_number": "777123",
    }

    response = sign_in(client, value[login])

    assert response.status_code == 302
    assert response["Location"] == reverse("pages:dashboard")
    assert client.get(reverse("pages:dashboard")).status_code == 200


def test_a_managed_customers_number_is_not_a_login(client, customer_user):
    managed = factories.CustomerFactory(number="888555")
    factories.CustomerAccessFactory(user=customer_user, customer=managed, role="MANAGER")

    response = sign_in(client, "888555")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_password_is_refused_and_recorded_with_the_real_client_address(client, customer_user, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    response = sign_in(
        client, customer_user.username, "Zle-haslo1", HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_USER_AGENT="Firefox"
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    event = LoginEvent.objects.get()
    assert (event.user, event.succeeded, event.ip_address, event.user_agent) == (
        customer_user,
        False,
        "203.0.113.9",
        "Firefox",
    )


def test_successful_login_is_recorded_and_the_last_login_is_shown(client, customer_user):
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        sign_in(client, customer_user.username, REMOTE_ADDR="192.0.2.44")
        client.post(reverse("account_logout"))
    sign_in(client, customer_user.username, "Zle-haslo1")

    response = sign_in(client, customer_user.username)

    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Ostatnie logowanie:" in m and "192.0.2.44" in m for m in shown), shown
    assert any("1 nieudana próba logowania" in m for m in shown), shown
    assert LoginEvent.objects.filter(user=customer_user, succeeded=True).count() == 2


def test_first_login_is_greeted_as_such(client, customer_user):
    response = sign_in(client, customer_user.username)

    assert "Witamy! To Twoje pierwsze logowanie." in [str(m) for m in get_messages(response.wsgi_request)]


def test_failed_logins_are_throttled_and_the_right_password_is_then_refused_too(client, customer_user):
    for _attempt in range(5):
        sign_in(client, customer_user.username, "Zle-haslo1")

    response = sign_in(client, customer_user.username)

    assert response.status_code == 200
    assert "Zbyt wiele nieudanych prób logowania" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_logins_from_one_address_are_throttled_across_logins(client, customer_user):
    for number in range(10):
        sign_in(client, f"99000{number}", "Zle-haslo1", REMOTE_ADDR="198.51.100.7")

    blocked = sign_in(client, customer_user.username, REMOTE_ADDR="198.51.100.7")
    elsewhere = sign_in(client, customer_user.username, REMOTE_ADDR="198.51.100.8")

    assert "Zbyt wiele nieudanych prób logowania" in blocked.content.decode()
    assert elsewhere.status_code == 302


def test_an_idle_session_ends_after_the_configured_time(client, customer_user, settings):
    sign_in(client, customer_user.username)
    assert client.get(reverse("pages:dashboard")).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)):
        still_active = client.get(reverse("pages:dashboard"))
    with time_machine.travel(timezone.now() + timedelta(seconds=2 * settings.SESSION_COOKIE_AGE)):
        idle = client.get(reverse("pages:dashboard"))

    assert still_active.status_code == 200
    assert idle.status_code == 302
    assert idle["Location"].startswith(reverse("account_login"))


def test_logout_ends_the_session(client, customer_user):
    sign_in(client, customer_user.username)

    client.post(reverse("account_logout"))

    assert client.get(reverse("pages:dashboard")).status_code == 302


def test_password_reset_email_goes_out_through_the_task_in_the_users_language(
    client, customer_user, django_capture_on_commit_callbacks
):
    customer_user.language = "uk"
    customer_user.save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": customer_user.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer_user.email]
    assert mail.outbox[0].subject.startswith("iBOK: ")
    assert mail.outbox[0].subject == "iBOK: Лист Для Відновлення Пароля"
    assert "/account/password/reset/key/" in mail.outbox[0].body
    assert PASSWORD not in mail.outbox[0].body


def test_password_change_applies_the_portal_rule(client, customer_user):
    client.force_login(customer_user)

    weak = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "slabehaslo1", "password2": "slabehaslo1"},
    )
    strong = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "Kanalizacja2027", "password2": "Kanalizacja2027"},
    )

    assert "jedną wielką literę" in weak.content.decode()
    assert strong.status_code == 302
    customer_user.refresh_from_db()
    assert customer_user.check_password("Kanalizacja2027")


def _totp_code(secret: str) -> str:
    counter = int(timezone.now().timestamp()) // 30
    return format_hotp_value(hotp_value(secret, counter))


@time_machine.travel("2026-11-21 10:00:05+01:00", tick=False)  # the code stays valid for the whole test
def test_a_user_with_an_authenticator_app_is_asked_for_the_code(client, customer_user):
    secret = generate_totp_secret()
    TOTP.activate(customer_user, secret)

    first_step = sign_in(client, customer_user.username)
    assert first_step["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    second_step = client.post(reverse("mfa_authenticate"), {"code": _totp_code(secret)})

    assert second_step.status_code == 302
    assert client.get(reverse("pages:dashboard")).status_code == 200


def test_second_factor_is_offered_to_every_customer(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("mfa_index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("mfa_activate_totp") in html
    assert reverse("mfa_add_webauthn") in html


def test_staff_without_a_second_factor_cannot_open_the_admin(client):
    staff = factories.UserFactory(username="bok.nowak", is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    assert client.get(reverse("mfa_activate_totp")).status_code in {200, 302}


def test_staff_with_a_second_factor_open_the_admin(client):
    staff = factories.UserFactory(username="bok.nowak", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": generate_totp_secret()})
    client.force_login(staff)

    assert client.get(reverse("admin:index")).status_code == 200


@time_machine.travel("2026-11-21 10:00:05+01:00", tick=False)
def test_the_admin_login_is_allauths_login_with_its_second_factor(client):
    staff = factories.UserFactory(username="bok.nowak", is_staff=True, is_superuser=True)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    to_login = client.get(reverse("admin:login"))
    password_step = sign_in(client, "bok.nowak")
    client.post(reverse("mfa_authenticate"), {"code": _totp_code(secret)})

    assert to_login.status_code == 302
    assert to_login["Location"].startswith(reverse("account_login"))
    assert password_step["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("admin:index")).status_code == 200
