"""Errors as RFC 9457 problem details (application/problem+json), the detail translated (Accept-Language)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

__all__ = ["Forbidden", "HttpError", "Invalid", "install", "problem"]

CONTENT_TYPE = "application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 422: "Unprocessable Content", 429: "Too Many Requests"}  # fmt: skip


class Forbidden(HttpError):
    def __init__(self, detail: str):
        super().__init__(403, detail)


class Invalid(HttpError):
    """422 with the fields' errors, as a page's form shows them: [{"loc": [field], "msg": ...}]."""

    def __init__(self, detail: str, errors: list[dict]):
        super().__init__(422, detail)
        self.errors = errors


def problem(api: NinjaAPI, request: HttpRequest, status: int, detail: str, **extra) -> HttpResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = CONTENT_TYPE
    return response


def install(api: NinjaAPI) -> None:
    """Every error the API answers, in one format."""

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = problem(api, request, 401, _("Sign in, or send a valid API token (Authorization: Bearer …)."))
        response["WWW-Authenticate"] = 'Bearer realm="iBOK"'
        return response

    @api.exception_handler(ValidationError)
    def invalid(request, exc):
        return problem(api, request, 422, _("The request is not valid."), errors=exc.errors)

    @api.exception_handler(Throttled)
    def throttled(request, exc):
        return problem(api, request, 429, _("Too many requests. Try again later."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        # One answer for "missing" and "not yours", as on the pages.
        return problem(api, request, 404, _("Not found: it does not exist or is not yours."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        # A manager of some of a customer's points, where only those who act as the customer may (e-invoices).
        return problem(api, request, 403, _("Only the customer or a manager of all its delivery points may do this."))

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if isinstance(exc, Invalid):
            return problem(api, request, 422, str(exc), errors=exc.errors)
        return problem(api, request, exc.status_code, str(exc))
