"""Redis gone for real (a server of the test's own, stopped): the cache answers as a miss, so sign-in (sessions in
cached_db), registration's rate limits and the cached pages keep working, and /health/ says the cache is red."""

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.redis_server import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_gone(settings, tmp_path):
    server = RedisServer(tmp_path).start()
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    caches["default"].set("before", "it was up")
    assert caches["default"].get("before") == "it was up"
    server.stop()
    yield
    caches["default"].close()


def test_reads_are_misses_and_writes_are_dropped_while_redis_is_away(redis_gone):
    cache = caches["default"]

    assert cache.get("before") is None
    assert cache.get("missing", "fallback") == "fallback"
    assert cache.add("lock", 1) is True  # a lock or throttle taken with add never shuts everyone out
    cache.set("key", 1)
    assert cache.get("key") is None
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("computed", lambda: 42) == 42
    assert cache.incr("counter") == 0


def test_pages_answer_and_a_customer_signs_in_while_redis_is_away(redis_gone, client, customer_user):
    response = client.post(reverse("account_login"), {"login": customer_user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    factories.SyncRunFactory()

    assert client.get(reverse("pages:dashboard")).status_code == 200
    assert client.get(reverse("billing:index")).status_code == 200
    assert Client().get(reverse("accounts:register")).status_code == 200  # a visitor's registration form


def test_health_says_the_cache_is_red_while_redis_is_away(redis_gone, client):
    staff = factories.UserFactory(username="bok.nowak", is_staff=True)
    client.force_login(staff)

    checks = client.get(reverse("pages:health")).json()["checks"]

    assert checks["cache"]["ok"] is False
    assert checks["database"]["ok"] is True
