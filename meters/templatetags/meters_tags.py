"""Template helpers of the meter pages: quantities in the reader's language, form widgets tied to their help."""

from decimal import Decimal

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

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


@register.simple_tag
def described_widget(field: BoundField) -> SafeString:
    """A widget with aria-describedby pointing at its errors and help, and aria-invalid when it has errors."""
    described = []
    attrs: dict[str, str | bool] = {"placeholder": False}
    if field.errors:
        described.append(f"{field.auto_id}-errors")
        attrs["aria-invalid"] = "true"
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
