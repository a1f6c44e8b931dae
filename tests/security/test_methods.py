"""Methods a view does not handle are answered 405, signed in or not (issue 17).

Walks every URL pattern of the portal (the authorization matrix's list: admin/, i18n/ and allauth's own account/
pages are Django's and allauth's class-based views, which answer 405 themselves), with path parameters filled
from the matrix's cases over the matrix's world of real objects. Every function view must declare its methods
(core.methods): a new view without a rule fails `test_every_view_declares_its_methods`. Then TRACE, PUT, DELETE
and OPTIONS get 405 everywhere, and POST gets 405 from every view that only reads, for a visitor and a customer.

Not asked for POST (listed reason): the JSON API's routes (api-v1:*), whose methods django-ninja routes per
operation and answers 405 for any other (tests/api); they still get the 405s for the other methods here.
"""

import pytest
from django.test import Client
from django.urls import resolve, reverse

from core.methods import allowed_methods
from tests.managers.world import build_world
from tests.test_authorization_matrix import MATRIX, portal_urls

pytestmark = pytest.mark.django_db

NEVER = ("TRACE", "PUT", "DELETE", "OPTIONS", "PATCH")
NINJA_PREFIX = "api-v1:"  # django-ninja: its own per-operation routing (see the module's docstring)
# Paths that declare another method on purpose: the mobile app signs out with DELETE (accounts/headless.py).
DECLARED_EXTRA = {("headless-app:current_session", "DELETE")}


def targets(world) -> list[tuple[str, str]]:
    """(url name, path) for every URL of the portal, its parameters pointing at the world's objects."""
    found = []
    for name in sorted(portal_urls()):
        kwargs = MATRIX[name][0].kwargs(world)
        found.append((name, reverse(name, kwargs=kwargs)))
    return found


def test_every_view_declares_its_methods(world):
    undeclared = [
        f"{name} ({path})"
        for name, path in targets(world)
        if not name.startswith(NINJA_PREFIX) and allowed_methods(resolve(path).func) is None
    ]

    assert not undeclared, "views without core.methods' require_safe/require_form/require_POST: " + ", ".join(
        undeclared
    )


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


@pytest.mark.parametrize("role", ["anonymous", "customer"])
def test_unhandled_methods_are_405_everywhere(world, role):
    client = Client()
    if role == "customer":
        client.force_login(world.a.owner)
    wrong = []
    for name, path in targets(world):
        for method in NEVER:
            if (name, method) in DECLARED_EXTRA:
                continue
            status = client.generic(method, path).status_code
            if status != 405:
                wrong.append(f"{method} {path} ({name}): {status}")
        allowed = None if name.startswith(NINJA_PREFIX) else allowed_methods(resolve(path).func)
        if allowed is not None and "POST" not in allowed:
            status = client.post(path).status_code
            if status != 405:
                wrong.append(f"POST {path} ({name}, read-only): {status}")

    assert not wrong, "\n".join(wrong)


def test_a_read_only_page_answers_post_with_405_and_a_form_page_takes_it(client, world):
    client.force_login(world.a.owner)

    assert client.post(reverse("billing:index")).status_code == 405
    assert client.post(reverse("billing:index")).headers["Allow"] == "GET, HEAD"
    assert Client().post(reverse("billing:index")).status_code == 405  # before the sign-in redirect
    assert client.post(reverse("tickets:case-create"), {}).status_code == 200  # the form, with its errors
