"""Template helpers of the meter pages: quantities in the reader's language."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def quantity(value: Decimal | None, unit: str = "") -> str:
    """{{ reading.value|quantity:meter.unit }}: three decimals as the language writes them, then the unit."""
    if value is None:
        return ""
    text = number_format(value, 3, force_grouping=True)
    return f"{text}\u00a0{unit}" if unit else text
