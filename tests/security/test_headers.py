"""Headers every response carries, and the methods the portal answers."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.middleware import EXTRA_METHODS

pytestmark = pytest.mark.django_db

FORBIDDEN_FEATURES = ["camera=()", "microphone=()", "geolocation=()", "payment=()"]


def every_page_path() -> list[str]:
    """One concrete path per URL pattern without parameters, and a made-up one for each with parameters."""
    paths = []

    def walk(patterns, prefix):
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                path = "/" + prefix + route
                for marker in ("<int:", "<str:", "<slug:", "<uuid:", "<path:", "<"):
                    while marker in path:
                        start = path.index(marker)
                        path = path[:start] + "1" + path[path.index(">", start) + 1 :]
                paths.append(path.replace("^", "").replace("$", ""))

    walk(get_resolver().url_patterns, "")
    return sorted({p for p in paths if "\\" not in p and "(" not in p})


def test_every_response_says_no_camera_microphone_geolocation_or_payment(client):
    response = client.get(reverse("account_login"))

    policy = response["Permissions-Policy"]
    assert all(feature in policy for feature in FORBIDDEN_FEATURES)


def test_the_content_security_policy_allows_no_base_element(client):
    response = client.get(reverse("account_login"))

    assert "base-uri 'none'" in response["Content-Security-Policy"]


def test_a_signed_in_page_is_never_stored(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("pages:dashboard"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_signed_in_download_is_never_stored_either(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("accounts:data-export"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_an_anonymous_public_page_is_not_marked_no_store(client):
    response = client.get(reverse("pages:accessibility"))

    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_methods_no_view_handles_are_answered_405_everywhere(client, customer_user, method, signed_in):
    if signed_in:
        client.force_login(customer_user)

    # Declared on purpose (core.middleware.EXTRA_METHODS): the mobile app signs out with DELETE.
    paths = [path for path in every_page_path() if method not in EXTRA_METHODS.get(path, ())]
    answers = {path: client.generic(method, path).status_code for path in paths}

    assert len(answers) > 40
    assert {path: status for path, status in answers.items() if status != 405} == {}
