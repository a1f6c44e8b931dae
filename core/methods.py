"""Which HTTP methods each view answers: Django's method decorators, marked so the middleware can read them.

Use these instead of django.views.decorators.http's: every function view of the portal takes one of them
(tests/security/test_methods.py fails for a view that has none). core.middleware.AllowedMethodsMiddleware answers
405 to any other method before the view runs, before any sign-in redirect, so a read-only page answers a POST
with 405 signed in or not.
"""

from collections.abc import Callable, Iterable

from django.views.decorators import http

ATTRIBUTE = "allowed_methods"


def require_http_methods(methods: Iterable[str]) -> Callable:
    allowed = frozenset(m.upper() for m in methods) | ({"HEAD"} if "GET" in {m.upper() for m in methods} else set())

    def decorator(view: Callable) -> Callable:
        wrapped = http.require_http_methods(sorted(allowed))(view)
        setattr(wrapped, ATTRIBUTE, allowed)  # functools.wraps copies it up through login_required & co.
        return wrapped

    return decorator


require_safe = require_http_methods(["GET", "HEAD"])  # a page that only reads
require_GET = require_safe
require_POST = require_http_methods(["POST"])  # an action
require_form = require_http_methods(["GET", "HEAD", "POST"])  # a page with its form


def allowed_methods(view: Callable) -> frozenset[str] | None:
    """The methods a resolved view answers: its mark, or a class-based view's handlers; None when undeclared."""
    marked = getattr(view, ATTRIBUTE, None)
    if marked is not None:
        return frozenset(marked)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        names = {m.upper() for m in view_class.http_method_names if m != "options" and hasattr(view_class, m)}
        return frozenset(names | ({"HEAD"} if "GET" in names else set()))
    return None
