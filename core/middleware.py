"""Answers every response shares: which HTTP methods the portal takes, and the security headers."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.cache import add_never_cache_headers

from core import methods

ALLOWED_METHODS = ("GET", "HEAD", "POST")
# The few paths that take another method: the mobile app signs out with DELETE (accounts/headless.py).
EXTRA_METHODS = {"/_allauth/app/v1/auth/session": ("DELETE",)}


class AllowedMethodsMiddleware:
    """Every other method (PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT …) is answered 405, signed in or not.

    No page of the portal handles them; a function view would otherwise answer them as if they were a GET.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        extra = EXTRA_METHODS.get(request.path, ())
        if request.method not in ALLOWED_METHODS and request.method not in extra:
            return HttpResponseNotAllowed(ALLOWED_METHODS + extra)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        """The view's own rule (core.methods), before any sign-in redirect: a read-only page answers POST 405."""
        allowed = methods.allowed_methods(view_func)
        if allowed is not None and request.method not in allowed:
            return HttpResponseNotAllowed(sorted(allowed))
        return None


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `Cache-Control: no-store` on every response to a signed-in user, so
    that neither a shared proxy nor the browser's back button keeps a copy of a customer's page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.IBOK_PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            response.headers.pop("Cache-Control", None)  # "private, max-age=…" would still let the browser keep it
            add_never_cache_headers(response)
        return response
