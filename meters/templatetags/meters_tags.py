"""Template helpers of the meter pages: quantities in the reader's language."""

from decimal import Decimal

from django import template

from core.formats import format_quantity, unit_label

register = template.Library()


@register.filter
def quantity(value: Decimal | None, unit: str = "") -> str:
    """{{ reading.value|quantity:meter.unit }}: three decimals, grouped as the language writes them, then the unit."""
    if value is None:
        return ""
    return format_quantity(value, unit)


@register.filter
def unit(value: str) -> str:
    """{{ meter.unit|unit }}: 'm3' as 'm³'."""
    return unit_label(value)
