"""{% current_announcements as announcements %}: the komunikaty in force, for pages without a view of ours
(the login page). One query, and only where the tag is used."""

from django import template
from django.utils import timezone

from notices import selectors

register = template.Library()

LOGIN_PAGE_ANNOUNCEMENTS = 5


@register.simple_tag
def current_announcements() -> list:
    return list(selectors.current_announcements(now=timezone.now())[:LOGIN_PAGE_ANNOUNCEMENTS])
