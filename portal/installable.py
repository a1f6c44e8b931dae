"""The portal installable on a phone: a web app manifest, a service worker from the portal's own origin and the
page it shows when the network is gone. The worker caches only that page and the static files it needs; it
never caches a customer's pages or data (navigations always go to the network first)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.methods import require_GET

THEME_COLOUR = "#0b3a66"  # the navy of the logo and the header
ICONS = [
    ("img/icons/icon-192.png", 192, "any"),
    ("img/icons/icon-512.png", 512, "any"),
    ("img/icons/maskable-192.png", 192, "maskable"),
    ("img/icons/maskable-512.png", 512, "maskable"),
]


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    body = {
        "id": "/",
        "name": f"iBOK · {settings.IBOK_UTILITY_NAME}",
        "short_name": "iBOK",
        "description": _("Your bills, payments, meter readings and cases with the utility, online."),
        "lang": get_language(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": static(path), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
            for path, size, purpose in ICONS
        ],
    }
    response = JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the root so that its scope is the whole portal; a new language or new static files change
    its text, and the browser installs it again with the offline page in that language."""
    response = render(
        request,
        "pages/service_worker.js",
        {"language": get_language(), "offline_assets": [static("css/ibok.css"), static("img/favicon.svg")]},
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Shown by the service worker without a network. The same for everyone (it is cached on the device): no
    name, no customer number, nothing of the account that was signed in."""
    response = render(request, "pages/offline.html", {"utility_name": settings.IBOK_UTILITY_NAME})
    response["Cache-Control"] = "no-cache"
    return response
