"""Personal access tokens: made, checked and revoked here only."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import User
from api.models import PersonalAccessToken

TOKEN_PREFIX = "ibok_pat_"
LAST_USED_EVERY = timedelta(minutes=1)  # last use is written at most this often, not on every request


class TokenRejected(Exception):
    """The token is unknown, revoked or expired."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user: User, name: str, days: int, can_write: bool, now: datetime
) -> tuple[PersonalAccessToken, str]:
    """A new token for `user`; returns the row and the token itself, which is never stored and shown only now."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = PersonalAccessToken.objects.create(
        user=user, name=name, prefix=token[: len(TOKEN_PREFIX) + 4], token_hash=token_hash(token),
        can_write=can_write, created_at=now, expires_at=now + timedelta(days=days),
    )  # fmt: skip
    return row, token


def token_check(*, token: str, now: datetime) -> PersonalAccessToken:
    """The live token row for `token`, its last use recorded; raises TokenRejected."""
    row = (
        PersonalAccessToken.objects.select_related("user")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if row is None:
        raise TokenRejected
    if row.last_used_at is None or row.last_used_at < now - LAST_USED_EVERY:
        PersonalAccessToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def token_revoke(*, token: PersonalAccessToken, now: datetime) -> None:
    PersonalAccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
