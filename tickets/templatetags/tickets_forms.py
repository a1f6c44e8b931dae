"""A form field's widget tied to its help text and errors for screen readers."""

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def described_widget(field: BoundField) -> SafeString:
    """The widget without a placeholder, with aria-describedby (help, errors) and aria-invalid when wrong."""
    attrs: dict = {"placeholder": False}
    described = []
    if field.errors:
        attrs["aria-invalid"] = "true"
        described.append(f"{field.auto_id}-errors")
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
