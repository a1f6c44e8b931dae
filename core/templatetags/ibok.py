"""Template helpers shared by every page: money in the reader's language, machine-readable times, and form
widgets tied to their help."""

import functools
import re
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.forms import BoundField
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info, ngettext

from core.formats import format_quantity, unit_label
from core.money import round_money

register = template.Library()

NBSP = "\u00a0"

# (thousands separator, decimal separator, pattern) per language; the pattern gets the formatted number.
_MONEY_FORMATS = {
    "pl": (NBSP, ",", "{number}" + NBSP + "zł"),
    "uk": (NBSP, ",", "{number}" + NBSP + "зл"),
    "en": (",", ".", "PLN" + NBSP + "{number}"),
}


def format_money(value: Decimal | int | str, language: str | None = None) -> str:
    """1234.5 -> '1 234,50 zł' (Polish, Ukrainian with 'зл') or 'PLN 1,234.50' (English); spaces are non-breaking."""
    amount = round_money(value)
    code = (language or get_language() or "pl").split("-")[0].lower()
    thousands, decimal_point, pattern = _MONEY_FORMATS.get(code, _MONEY_FORMATS["pl"])
    whole, cents = f"{abs(amount):,.2f}".split(".")
    number = f"{whole.replace(',', thousands)}{decimal_point}{cents}"
    sign = "-" if amount < 0 else ""
    return sign + pattern.format(number=number)


@register.filter
def money(value) -> str:
    """{{ invoice.gross|money }}: an amount in PLN formatted for the active language; empty for None."""
    if value is None or value == "":
        return ""
    try:
        return format_money(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def quantity(value, unit: str = "") -> str:
    """{{ line.quantity|quantity:line.unit }}: three decimals grouped as the language writes them, 'm3' as 'm³'."""
    if value is None or value == "":
        return ""
    return format_quantity(value, unit)


@register.filter
def unit(value: str) -> str:
    """{{ line.unit|unit }}: 'm3' as 'm³'."""
    return unit_label(value)


@register.filter
def machine_time(value: date | datetime | None) -> str:
    """{{ case.opened_at|machine_time }}: the value of a <time datetime> attribute, as the HTML standard allows it.

    A moment in UTC to the second ("2026-11-05T09:15:30Z"), a date as "2026-11-05". Django's "c" format adds
    microseconds, which the standard's time strings do not allow (more than three digits of a fraction).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="seconds")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return ""


@register.filter(is_safe=True)
def one_line(value: str) -> str:
    """{% filter one_line %}...{% endfilter %}: the text with its runs of whitespace made single spaces."""
    return " ".join(str(value).split())


@register.simple_tag
def described_widget(field: BoundField, **extra: str) -> SafeString:
    """The widget (no placeholder) with aria-describedby naming its errors and help, aria-invalid when wrong.

    The ids are those components/field.html gives the error list and the help text. Non-empty keyword arguments
    become attributes (`{% described_widget field autocomplete="username" %}`).
    """
    described = []
    attrs: dict[str, str | bool] = {"placeholder": False, **{name: value for name, value in extra.items() if value}}
    if field.errors:
        described.append(f"{field.auto_id}-errors")
        attrs["aria-invalid"] = "true"
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


# Tags for rows of long lists: the same markup as components/money.html and components/status_badge.html, without
# an include per cell (an include costs a context and a template render; a page of invoices had a hundred).


@register.simple_tag
def money_span(amount) -> SafeString:
    """{% money_span invoice.gross %}: <span class="money">1 234,50 zł</span>, as components/money.html."""
    return format_html('<span class="money">{}</span>', money(amount))


@register.simple_tag
def status_badge(status: str, label: str) -> SafeString:
    """{% status_badge row.status row.label %}: a payment status as text with a colour, as the component."""
    return format_html('<span class="badge badge--{}">{}</span>', str(status).lower(), label)


# --- the page frame (base.html): built in Python, as every page renders it ------------------------------------------


@register.simple_tag
def main_navigation(items, cases_unread: int = 0) -> SafeString:
    """{% main_navigation navigation cases_unread %}: the main menu's <li> items (portal.context_processors'
    navigation), the page shown marked aria-current, the unread replies counted beside "Lista spraw". The same
    HTML a {% for %} loop gave, built once per language, page and count (a label follows from its link and the
    language)."""
    key = (get_language(), cases_unread, tuple((item.href, item.current, item.cases) for item in items))
    html = _navigation_html.get(key)
    if html is None:
        html = _navigation(items, cases_unread)
        if len(_navigation_html) < _NAVIGATION_CACHE_SIZE:
            _navigation_html[key] = html
    return html


_navigation_html: dict[tuple, SafeString] = {}
_NAVIGATION_CACHE_SIZE = 4096  # pages x counts seen by one process; past it, built each time


def _navigation(items, cases_unread: int) -> SafeString:
    badge = ""
    if cases_unread:
        badge = format_html(
            ' <span class="count-badge">{} <span class="visually-hidden">{}</span></span>',
            cases_unread,
            ngettext("unread reply", "unread replies", cases_unread),
        )
    return format_html_join(
        "\n",
        '<li><a href="{}"{}>{}{}</a></li>',
        ((item.href, _ARIA_CURRENT if item.current else "", item.label, badge if item.cases else "") for item in items),
    )


_ARIA_CURRENT = SafeString(' aria-current="page"')


@register.simple_tag
def language_options(current: str) -> SafeString:
    """{% language_options LANGUAGE_CODE %}: the language switcher's <option>s (settings.LANGUAGES, each named in
    itself), the current one selected; built once per language."""
    return _language_options(current)


@functools.cache
def _language_options(current: str) -> SafeString:
    return format_html_join(
        "\n",
        '<option value="{}" lang="{}"{}>{}</option>',
        (
            (code, code, SafeString(" selected") if code == current else "", _language_name(code))
            for code, _name in settings.LANGUAGES
        ),
    )


def _language_name(code: str) -> str:
    """A language named in itself ("Polski", "English", "Українська"), whatever the page's language."""
    return capfirst(get_language_info(code)["name_local"])


# --- parts of a page that are the same for everyone: rendered once per language ----------------------------------


@register.simple_tag(takes_context=True)
def frozen_include(context, template_name: str, **values) -> SafeString:
    """{% frozen_include "components/language_form.html" next=request.get_full_path %}: the template rendered once
    per language and URLconf, then only `values` and the CSRF token put in on each request.

    For the parts of a page that every request renders alike (the language switcher, the user box, the passkey
    offer): a dozen template nodes cost more than the rest of a cached page. The template sees no request and no
    context but `values` and `csrf_token`. Each value that is set is rendered as a marker, replaced by the
    request's value, escaped, so the template must print it plainly ({{ next }}, {% csrf_token %}) or only test
    it ({% if number %}); a value that is not set (None, "", False) is rendered as it is, in a copy of its own.
    Not cached while DEBUG (templates change).
    """
    token = context.get("csrf_token")
    values["csrf_token"] = None if token is None or token == "NOTPROVIDED" else token  # as {% csrf_token %} does
    given = {name: value for name, value in values.items() if value}
    unset = tuple(sorted((name, repr(value)) for name, value in values.items() if not value))
    key = (template_name, get_language(), get_urlconf(), get_script_prefix(), tuple(sorted(given)), unset)
    parts = _frozen.get(key)
    if parts is None:
        markers = {f"frozen{secrets.token_hex(12)}": name for name in given}
        rendered = get_template(template_name).render({**values, **{name: marker for marker, name in markers.items()}})
        pieces = re.split(f"({'|'.join(markers)})", rendered) if markers else [rendered]
        parts = [markers.get(part, part) for part in pieces]
        if not settings.DEBUG:
            _frozen[key] = parts
    # re.split with one group: the text between markers at even places, the values' names at odd ones.
    return SafeString(
        "".join(part if index % 2 == 0 else conditional_escape(given[part]) for index, part in enumerate(parts))
    )


_frozen: dict[tuple, list[str]] = {}
