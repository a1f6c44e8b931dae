"""{% frozen_include %}: a part of the page frame rendered once per language, the request's values put in after."""

import re

import pytest
from django.template import engines
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db

django_engine = engines["django"]
FROZEN = django_engine.from_string(
    '{% load ibok %}{% frozen_include "components/user_box.html" name=name number=number next=next '
    "next_query=next_query %}"
)
INCLUDED = django_engine.from_string(
    '{% include "components/user_box.html" with name=name number=number next=next next_query=next_query %}'
)


def values(**changes) -> dict:
    return {
        "name": "Anna Nowak",
        "number": "100234",
        "next": "/billing/?period=2026&x=1",
        "next_query": "/billing/%3Fperiod%3D2026%26x%3D1",
        "csrf_token": "token-one",
        **changes,
    }


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
def test_it_renders_what_the_plain_include_renders(language):
    with translation.override(language):
        for context in (values(), values(name='Jan "Kowal" <b>&', next="/?a='1'&b=<2>", csrf_token="t<&>")):
            assert FROZEN.render(context) == INCLUDED.render(context)


def test_the_values_of_each_request_replace_the_previous_ones():
    first = FROZEN.render(values())
    second = FROZEN.render(values(name="Jan <b>", csrf_token="token-two"))

    assert "Anna Nowak" in first and "token-one" in first
    assert "Jan &lt;b&gt;" in second and "token-two" in second
    assert "Anna" not in second and "token-one" not in second
    assert "frozen" not in first + second  # no marker left


def test_each_language_has_its_own_copy():
    with translation.override("pl"):
        polish = FROZEN.render(values())
    with translation.override("en"):
        english = FROZEN.render(values())

    assert "Wyloguj" in polish and "Sign out" not in polish
    assert "Sign out" in english


def test_a_value_not_given_leaves_its_part_out():
    """The customer switcher's part is rendered only when number is given (a copy of its own)."""
    without = django_engine.from_string('{% load ibok %}{% frozen_include "components/user_box.html" name="A" %}')

    assert "user-box__customer" not in without.render({"csrf_token": "t"})
    assert "user-box__customer" in FROZEN.render(values())


def test_the_token_in_the_page_frame_is_the_sessions_own(customer_user):
    """The sign-out form of a frozen part carries a token the CSRF check accepts (checks on, as in production)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer_user)
    page = client.get("/?month=<b>").content.decode()

    assert 'name="next" value="/?month=%3Cb%3E"' in page  # the language form's way back, escaped
    logout = re.search(r'action="/account/logout/" method="post">\s*<input[^>]*value="([^"]+)"', page)
    assert logout, "the sign-out form has a token"
    assert client.post("/account/logout/", {"csrfmiddlewaretoken": logout.group(1)}).status_code == 302
    assert client.get("/").status_code == 302  # signed out: back to the sign-in
