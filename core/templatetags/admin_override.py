from django import template

from core.admin import override_until

register = template.Library()


@register.simple_tag(takes_context=True)
def billing_override_until(context):
    """Until when this superuser may edit billing-system data in the admin (core.admin), or None."""
    request = context.get("request")
    return override_until(request) if request is not None else None
