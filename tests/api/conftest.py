"""The API's tests: a token's client, and the authorization tests' world (two customers, managers, staff)."""

import pytest
from django.test import Client
from django.utils import timezone

from api import services
from tests.managers.world import build_world


def make_token(user, *, days: int = 30, can_write: bool = False) -> str:
    return services.token_create(user=user, name="Integracja", days=days, can_write=can_write, now=timezone.now())[1]


def bearer(token: str, **headers) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", **headers)


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


@pytest.fixture
def as_user():
    """A client with a token of `user` (read-only unless can_write)."""

    def client(user, *, can_write: bool = False, **headers) -> Client:
        return bearer(make_token(user, can_write=can_write), **headers)

    return client
