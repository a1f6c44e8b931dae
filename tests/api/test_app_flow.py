"""The mobile app's flow over HTTP only: sign in through allauth's headless "app" client with the password and
the TOTP code, then use the session token (X-Session-Token) on /api/v1/ for what the app does. And the refusals:
a token after sign-out, a sign-in still waiting for its second factor, an idle or too old session, the terms."""

from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import TermsVersion
from meters.models import Reading, ReadingSource
from tests.api.test_billing_resources import sandbox  # noqa: F401 - the payment broker's sandbox fixture
from tests.billing.conftest import registration_from_redirect
from tests.factories import PASSWORD
from tests.tickets.conftest import make_pdf, upload
from tickets.models import Case

pytestmark = pytest.mark.django_db

APP = "/_allauth/app/v1"


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))


def app_sign_in(login: str, *, password: str = PASSWORD, secret: str | None = None) -> tuple[Client, str]:
    """What the app does: POST the login, then the code when allauth asks for it. Returns the app's client."""
    app = Client(HTTP_ACCEPT_LANGUAGE="pl")
    first = app.post(f"{APP}/auth/login", {"username": login, "password": password}, content_type="application/json")
    token = first.json()["meta"]["session_token"]
    if secret is not None:
        assert first.status_code == 401, first.content
        assert [f["id"] for f in first.json()["data"]["flows"] if f.get("is_pending")] == ["mfa_authenticate"]
        second = app.post(
            f"{APP}/auth/2fa/authenticate", {"code": totp_code(secret)}, content_type="application/json",
            HTTP_X_SESSION_TOKEN=token,
        )  # fmt: skip
        assert second.status_code == 200, second.content
        token = second.json()["meta"].get("session_token", token)
    else:
        assert first.status_code == 200, first.content
    return Client(HTTP_X_SESSION_TOKEN=token, HTTP_ACCEPT_LANGUAGE="pl"), token


@time_machine.travel("2026-11-21 10:00:05+01:00", tick=False)  # the TOTP code stays valid for the whole test
def test_the_apps_flow_from_sign_in_with_a_second_factor_to_a_case(world, settings, tmp_path, sandbox):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    a = world.a
    secret = generate_totp_secret()
    TOTP.activate(a.owner, secret)

    app, _token = app_sign_in(a.customer.number, secret=secret)  # the customer number, as on the web

    assert app.get(f"{APP}/auth/session").json()["data"]["user"]["username"] == a.owner.username
    invoices = app.get("/api/v1/invoices").json()["results"]
    assert {row["id"] for row in invoices} == {invoice.pk for invoice in a.invoices}

    invoice = a.invoices[0]
    web = Client()
    web.force_login(a.owner)
    page_pdf = b"".join(web.get(reverse("billing:invoice-pdf", args=[invoice.pk])).streaming_content)
    api_pdf = app.get(f"/api/v1/invoices/{invoice.pk}/pdf")
    assert api_pdf.status_code == 200
    assert page_pdf.startswith(b"%PDF") and b"".join(api_pdf.streaming_content) == page_pdf

    started = app.post("/api/v1/payments/online", {"invoice_ids": [a.invoices[1].pk]}, content_type="application/json")
    assert started.status_code == 201, started.content
    assert registration_from_redirect(started.json()["redirect_url"])["amount"] > 0
    assert app.get(started.json()["status_url"]).json()["status"] == "STARTED"

    meter = a.meters[0]
    reading = app.post(f"/api/v1/meters/{meter.pk}/readings", {"value": "130.000"}, content_type="application/json")
    assert reading.status_code == 201, reading.content
    assert Reading.objects.filter(meter=meter, source=ReadingSource.SELF).count() == 1

    opened = app.post(
        "/api/v1/cases",
        {"case_type": "BILLING", "subject": "Korekta faktury", "description": "Proszę o korektę.",
         "attachments": [upload("pismo.pdf", make_pdf(), "application/pdf")]},
    )  # fmt: skip
    assert opened.status_code == 201, opened.content
    detail = app.get(f"/api/v1/cases/{opened.json()['id']}").json()
    assert detail["subject"] == "Korekta faktury"

    balance_url = f"/api/v1/customers/{a.customer.pk}/balance"
    first = app.get(balance_url)
    assert first.status_code == 200
    assert app.get(balance_url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_session_token_is_refused_after_sign_out(world):
    app, token = app_sign_in(world.a.owner.email)  # or the e-mail
    assert app.get("/api/v1/me").status_code == 200

    assert app.delete(f"{APP}/auth/session").status_code == 401  # signed out: allauth answers "not authenticated"

    refused = app.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"


@time_machine.travel("2026-11-21 10:00:05+01:00", tick=False)
def test_without_the_second_factor_the_token_opens_nothing(world):
    secret = generate_totp_secret()
    TOTP.activate(world.a.owner, secret)
    app = Client()
    first = app.post(
        f"{APP}/auth/login", {"username": world.a.owner.username, "password": PASSWORD},
        content_type="application/json",
    )  # fmt: skip
    token = first.json()["meta"]["session_token"]

    wrong = app.post(
        f"{APP}/auth/2fa/authenticate", {"code": "000000"}, content_type="application/json", HTTP_X_SESSION_TOKEN=token
    )

    assert first.status_code == 401 and wrong.status_code == 400
    assert Client(HTTP_X_SESSION_TOKEN=token).get("/api/v1/me").status_code == 401
    assert Client(HTTP_X_SESSION_TOKEN=token).get("/api/v1/invoices").status_code == 401


def test_failed_sign_ins_are_throttled_as_on_the_web_and_the_right_password_is_then_refused_too(world):
    app = Client(HTTP_ACCEPT_LANGUAGE="pl")
    number = world.a.customer.number

    def attempt(password: str):
        return app.post(
            f"{APP}/auth/login", {"username": number, "password": password}, content_type="application/json"
        )

    wrong = [attempt("Zle-haslo-123") for _ in range(5)]  # ACCOUNT_RATE_LIMITS: 5 per 5 minutes per login
    right = attempt(PASSWORD)

    assert [r.status_code for r in wrong] == [400] * 5
    assert "session_token" not in wrong[0].json().get("meta", {})
    assert right.status_code == 400
    assert right.json()["errors"][0]["code"] == "too_many_login_attempts"
    assert right.json()["errors"][0]["message"].startswith("Zbyt wiele nieudanych prób logowania")


def test_sign_up_phone_and_account_management_are_not_offered():
    for path in ["auth/signup", "auth/phone/verify", "account/email", "account/password/change", "tokens/refresh",
                 "account/authenticators/totp", "auth/webauthn/login"]:  # fmt: skip
        assert Client().post(f"{APP}/{path}", {}, content_type="application/json").status_code == 404, path


def test_a_session_token_ends_when_idle_and_after_the_absolute_lifetime(world, settings):
    settings.SESSION_COOKIE_AGE = 15 * 60
    settings.IBOK_SESSION_MAX_AGE_SECONDS = 60 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        app, _ = app_sign_in(world.a.owner.username)
        for _step in range(5):  # active every ten minutes: the idle timeout never strikes
            clock.shift(timedelta(minutes=10))
            assert app.get("/api/v1/me").status_code == 200
        clock.shift(timedelta(minutes=10))  # 60 minutes since the sign-in
        assert app.get("/api/v1/me").status_code == 401

        idle, _ = app_sign_in(world.a.owner.username)
        clock.shift(timedelta(minutes=16))
        assert idle.get("/api/v1/me").status_code == 401


def test_a_customer_who_has_not_accepted_the_terms_gets_403(world):
    app, _ = app_sign_in(world.a.owner.username)
    TermsVersion.objects.create(
        version="2026-12", title="Regulamin", body="Nowy regulamin", published_at=timezone.now() - timedelta(minutes=1)
    )
    cases = Case.objects.count()

    response = app.get("/api/v1/invoices")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "regulamin" in response.json()["detail"].lower()
    refused = app.post("/api/v1/cases", {"case_type": "BILLING", "subject": "X", "description": "Y"})
    assert refused.status_code == 403 and Case.objects.count() == cases
