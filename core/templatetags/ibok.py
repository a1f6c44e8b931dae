"""Template helpers shared by every page: money in the reader's language, machine-readable times, and form
widgets tied to their help."""

import functools
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext

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
    HTML a {% for %} loop gave, for a fraction of its cost on every page."""
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
def language_options(languages, current: str) -> SafeString:
    """{% language_options languages LANGUAGE_CODE %}: the language switcher's <option>s, the current one
    selected; built once per language."""
    return _language_options(tuple(languages), current)


@functools.cache
def _language_options(languages: tuple[tuple[str, str], ...], current: str) -> SafeString:
    return format_html_join(
        "\n",
        '<option value="{}" lang="{}"{}>{}</option>',
        ((code, code, SafeString(" selected") if code == current else "", name) for code, name in languages),
    )
