"""The portal installable on a phone: a manifest as browsers validate it, icons in the sizes phones ask for, a
service worker from the portal's own origin, and an offline page with nothing of the account on it."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from PIL import Image

pytestmark = pytest.mark.django_db


def static_file(url: str) -> Path:
    return Path(finders.find(url.removeprefix(settings.STATIC_URL)))


def test_the_manifest_is_served_with_its_type_and_has_what_installability_needs(client):
    response = client.get(reverse("pages:manifest"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"].startswith("iBOK") and manifest["short_name"] == "iBOK"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/" and manifest["id"] == "/"
    assert manifest["display"] in {"standalone", "fullscreen", "minimal-ui"}
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    assert manifest["lang"] == "pl"


def test_every_icon_exists_in_its_declared_size_including_192_and_512_and_a_maskable_one(client):
    icons = json.loads(client.get(reverse("pages:manifest")).content)["icons"]

    for icon in icons:
        with Image.open(static_file(icon["src"])) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
            assert image.format == "PNG" and icon["type"] == "image/png"
    sizes = {icon["sizes"] for icon in icons if icon["purpose"] == "any"}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon["purpose"] == "maskable" and icon["sizes"] == "512x512" for icon in icons)


def test_pages_link_the_manifest_and_an_apple_touch_icon(client):
    page = client.get(reverse("account_login")).content.decode()

    assert f'rel="manifest" href="{reverse("pages:manifest")}"' in page
    assert 'rel="apple-touch-icon"' in page


def test_the_manifest_speaks_the_visitors_language(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"

    manifest = json.loads(client.get(reverse("pages:manifest")).content)

    assert manifest["lang"] == "uk"
    assert "Ваші" in manifest["description"]


def test_the_service_worker_comes_from_the_root_as_javascript_and_caches_only_the_offline_page(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert f'const OFFLINE_URL = "{reverse("pages:offline")}"' in script
    assert "cache.put" not in script  # nothing a customer sees is stored: only the precached offline files


def test_the_offline_page_is_translated_and_shows_nothing_of_the_signed_in_account(client, customer_user):
    client.force_login(customer_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(reverse("pages:offline")).content.decode()

    assert "No connection" in page
    assert customer_user.username not in page
    assert customer_user.email not in page
