"""Reads for the personal access tokens page."""

from django.db.models import QuerySet

from accounts.models import User
from api.models import PersonalAccessToken


def tokens_for(*, user: User) -> QuerySet[PersonalAccessToken]:
    """The user's tokens not revoked (expired ones too, marked so on the page), newest first."""
    return PersonalAccessToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")
