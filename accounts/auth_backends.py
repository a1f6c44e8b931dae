"""Signing in with a customer number the user owns; Django's (username) and allauth's (e-mail) backends serve
the rest as they ship."""

from django.contrib.auth.backends import ModelBackend

from accounts.models import AccessRole, CustomerAccess, User


class CustomerNumberBackend(ModelBackend):
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
