"""Billing template helpers: Polish number formats for the invoice PDF."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

NBSP = "\u00a0"


def _polish(value: Decimal, places: int) -> str:
    sign = "-" if value < 0 else ""
    whole, fraction = f"{abs(value):,.{places}f}".split(".")
    return f"{sign}{whole.replace(',', NBSP)},{fraction}"


@register.filter
def pl_amount(value) -> str:
    """1234.5 -> '1 234,50' (non-breaking thousands separator)."""
    try:
        return _polish(Decimal(value), 2)
    except (InvalidOperation, TypeError, ValueError):
        return ""


@register.filter
def pl_quantity(value) -> str:
    """12.300 -> '12,300'; trailing zeros are kept: meters read to three places."""
    try:
        return _polish(Decimal(value), 3)
    except (InvalidOperation, TypeError, ValueError):
        return ""


@register.filter
def pl_price(value) -> str:
    """A unit price to four places, as tariffs are published (5,5500)."""
    try:
        return _polish(Decimal(value), 4)
    except (InvalidOperation, TypeError, ValueError):
        return ""
