"""The personal access tokens page (/settings/tokens/): creating asks for the password again after five minutes,
the secret is shown once and stored hashed, revoking closes the API to it, another user's token is a 404, an
expired token gets 401, and bad input is refused with a translated error and nothing made."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import PersonalAccessToken
from tests import factories
from tests.api.conftest import bearer, make_token

pytestmark = pytest.mark.django_db

START = "2026-11-21 10:00 +01:00"
TOKEN_RE = re.compile(r"ibok_pat_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def signed_in(customer_user, clock) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="pl")
    response = client.post(reverse("account_login"), {"login": customer_user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def test_the_settings_page_links_to_the_tokens_page(signed_in):
    assert reverse("api-tokens:list") in signed_in.get(reverse("accounts:settings")).content.decode()


def test_creating_a_token_later_asks_for_the_password_then_shows_the_token_once_and_stores_its_hash(
    signed_in, clock, customer_user
):
    clock.shift(timedelta(minutes=6))
    data = {"name": "Arkusz domowy", "days": "30", "can_write": "on"}

    asked = signed_in.post(reverse("api-tokens:create"), data)

    assert asked.status_code == 302 and asked["Location"].startswith(reverse("account_reauthenticate"))
    assert not PersonalAccessToken.objects.exists()

    confirmed = signed_in.post(asked["Location"], {"password": factories.PASSWORD})

    html = confirmed.content.decode()
    [secret] = set(TOKEN_RE.findall(html))
    row = PersonalAccessToken.objects.get()
    assert (row.user, row.name, row.can_write) == (customer_user, "Arkusz domowy", True)
    assert row.token_hash == services.token_hash(secret) and secret not in str(row.__dict__)
    assert row.expires_at == timezone.now() + timedelta(days=30)
    listed = signed_in.get(reverse("api-tokens:list")).content.decode()
    assert "Arkusz domowy" in listed and "Może przesyłać odczyty i sprawy" in listed
    assert secret not in listed  # shown once
    assert bearer(secret).get("/api/v1/me").status_code == 200


def test_right_after_sign_in_a_token_is_made_without_asking_again(signed_in):
    response = signed_in.post(reverse("api-tokens:create"), {"name": "Integracja", "days": "7"})

    assert response.status_code == 200
    assert TOKEN_RE.search(response.content.decode())
    assert PersonalAccessToken.objects.get().can_write is False


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "X", "days": "0"}, "co najmniej jeden dzień"),
        ({"name": "X", "days": "366"}, "najwyżej 365 dni"),
        ({"name": "   ", "days": "30"}, "To pole jest wymagane"),
        ({"name": "X" * 65, "days": "30"}, "65"),
    ],
)
def test_bad_input_is_refused_with_a_translated_error_and_nothing_made(signed_in, data, error):
    response = signed_in.post(reverse("api-tokens:create"), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not TOKEN_RE.search(response.content.decode())
    assert not PersonalAccessToken.objects.exists()


def test_a_revoked_token_gets_401_from_the_api(signed_in, customer_user):
    secret = make_token(customer_user)
    row = PersonalAccessToken.objects.get()
    assert bearer(secret).get("/api/v1/me").status_code == 200

    response = signed_in.post(reverse("api-tokens:revoke", kwargs={"token_id": row.pk}))

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert bearer(secret).get("/api/v1/me").status_code == 401
    assert "Integracja" not in signed_in.get(reverse("api-tokens:list")).content.decode()


def test_another_users_token_cannot_be_revoked(signed_in):
    stranger = factories.UserFactory()
    secret = make_token(stranger)
    row = PersonalAccessToken.objects.get()

    response = signed_in.post(reverse("api-tokens:revoke", kwargs={"token_id": row.pk}))

    assert response.status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    assert bearer(secret).get("/api/v1/me").status_code == 200
    assert "Integracja" not in signed_in.get(reverse("api-tokens:list")).content.decode()


def test_an_expired_token_gets_401_and_is_marked_expired(customer_user, clock):
    secret = make_token(customer_user, days=1)
    clock.shift(timedelta(days=1, seconds=1))
    page = Client()
    page.force_login(customer_user)

    assert bearer(secret).get("/api/v1/me").status_code == 401
    assert "(wygasł)" in page.get(reverse("api-tokens:list")).content.decode()


def test_the_page_needs_a_sign_in_and_reads_only_on_get():
    anonymous = Client()
    assert anonymous.get(reverse("api-tokens:list"))["Location"].startswith(reverse("account_login"))
    assert anonymous.post(reverse("api-tokens:create"), {"name": "X", "days": "1"}).status_code == 302
    assert not PersonalAccessToken.objects.exists()


@time_machine.travel(START, tick=False)
def test_the_page_lists_last_use(customer_user):
    secret = make_token(customer_user)
    bearer(secret).get("/api/v1/me")
    client = Client()
    client.force_login(customer_user)

    assert "21 listopada 2026, 10:00" in client.get(reverse("api-tokens:list")).content.decode()
