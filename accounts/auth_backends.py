"""The sign-in backends: Django's (username), allauth's (e-mail) and ours (any customer number the user owns).

Each loads the signed-in user of every page by one prepared PostgreSQL statement (core.db) instead of an
ORM query; authentication itself is the original backends' own.
"""

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends

from accounts.models import AccessRole, CustomerAccess, User
from core import db

# The twin of ModelBackend.get_user's query (tests/core/test_sql_twins.py compares the two).
_USER_SQL = f"SELECT {db.columns(User, 'u')} FROM accounts_user u WHERE u.id = %(id)s"


class PreparedUserMixin:
    def get_user(self, user_id):
        if not db.sql_twins_enabled():
            return super().get_user(user_id)
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        rows = db.fetch(_USER_SQL, {"id": pk})
        if not rows:
            return None
        user = db.from_row(User, rows[0])
        return user if self.user_can_authenticate(user) else None


class ModelBackend(PreparedUserMixin, django_backends.ModelBackend):
    """Django's: the username and password."""


class AuthenticationBackend(PreparedUserMixin, allauth_backends.AuthenticationBackend):
    """allauth's: the e-mail and password (allauth prefers it, as its own, when it signs a user in)."""


class CustomerNumberBackend(PreparedUserMixin, django_backends.ModelBackend):
    def authenticate(self, request, username: str | None = None, password: str | None = None, **kwargs):
        if not username or not password:
            return None
        access = (
            CustomerAccess.objects.filter(customer__number=username.strip(), role=AccessRole.OWNER)
            .select_related("user")
            .first()
        )
        if access is None:
            # Hash anyway, so an unknown number takes as long as a wrong password.
            User().set_password(password)
            return None
        user = access.user
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
