"""Who the API's caller is: a personal access token (api.services) or the portal's session; limits per token."""

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from api import services


class TokenAuth(HttpBearer):
    """A personal access token (api.services): the request acts as the token's user."""

    openapi_description = "A personal access token made on the settings page: Authorization: Bearer ibok_pat_…"

    def authenticate(self, request: HttpRequest, token: str):
        try:
            row = services.token_check(token=token, now=timezone.now())
        except services.TokenRejected:
            return None
        request.user = row.user
        request.api_token = row
        return row


class PerTokenThrottle(AuthRateThrottle):
    """Limits each token (or signed-in user) on its own; the answer says when to come back (Retry-After)."""

    def get_cache_key(self, request: HttpRequest) -> str:
        auth = getattr(request, "auth", None)
        ident = f"token-{auth.pk}" if hasattr(auth, "token_hash") else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
