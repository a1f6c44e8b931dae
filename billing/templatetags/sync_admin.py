from django import template
from django.utils import timezone

from billing.sync import runner

register = template.Library()


@register.simple_tag
def billing_sync_alarm() -> str | None:
    """The alarm staff see on the admin pages when the billing sync failed or is late."""
    return runner.sync_alarm(now=timezone.now())
