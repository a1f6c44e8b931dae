"""The idle timeout: a session ends after SESSION_COOKIE_AGE without requests, and is written at most once a minute."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

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


def session_writes(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert dashboard_status(client) == 200
    return sum('"django_session"' in q["sql"] and not q["sql"].startswith("SELECT") for q in queries.captured_queries)


def test_requests_within_the_refresh_interval_do_not_write_the_session(signed_in, clock, settings):
    clock.shift(timedelta(seconds=settings.IBOK_SESSION_REFRESH_SECONDS - 1))

    assert session_writes(signed_in) == 0


def test_a_request_after_the_refresh_interval_writes_the_session_once(signed_in, clock, settings):
    clock.shift(timedelta(seconds=settings.IBOK_SESSION_REFRESH_SECONDS))

    assert session_writes(signed_in) == 1
    assert session_writes(signed_in) == 0


def test_an_active_session_outlives_the_idle_time(signed_in, clock, settings):
    for _ in range(4 * settings.SESSION_COOKIE_AGE // 100):
        clock.shift(timedelta(seconds=100))
        assert dashboard_status(signed_in) == 200


def test_a_session_ends_after_the_idle_time_even_when_its_last_request_wrote_nothing(signed_in, clock, settings):
    clock.shift(timedelta(seconds=settings.IBOK_SESSION_REFRESH_SECONDS - 1))
    assert dashboard_status(signed_in) == 200  # did not move the expiry

    clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE))

    assert dashboard_status(signed_in) == 302


def test_a_session_may_end_up_to_the_refresh_interval_early_but_never_late(signed_in, clock, settings):
    age, refresh = settings.SESSION_COOKIE_AGE, settings.IBOK_SESSION_REFRESH_SECONDS
    clock.shift(timedelta(seconds=refresh - 1))
    assert dashboard_status(signed_in) == 200
    session = Session.objects.get()
    last_request = timezone.now()

    expires_in = session.expire_date - last_request
    assert timedelta(seconds=age - refresh) < expires_in <= timedelta(seconds=age)


def test_logout_leaves_no_session_behind(signed_in):
    signed_in.post(reverse("account_logout"))

    assert not Session.objects.exists()
    assert dashboard_status(signed_in) == 302
