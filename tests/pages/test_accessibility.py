"""The accessibility statement and the pages that are not built yet."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_accessibility_statement_is_public_and_linked_from_the_footer(client):
    response = client.get(reverse("pages:accessibility"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="pl"' in html
    assert f'href="{reverse("pages:accessibility")}"' in html
    assert "Deklaracja dostępności" in html
    assert "4 kwietnia 2019" in html


def test_the_einvoice_area_is_marked_current_in_the_navigation(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("einvoice:index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'href="{reverse("einvoice:index")}"\s+aria-current="page"', html)
    assert len(re.findall('aria-current="page"', html)) == 1


def test_language_switch_renders_the_page_in_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("pages:accessibility")})

    page = client.get(response["Location"])

    assert 'lang="en"' in page.content.decode()
    assert "Accessibility statement" in page.content.decode()
