"""The JSON API, version 1 (docs/api.md): the same authorization rule as the pages (accounts.permissions' Scope,
read once per request), typed schemas from which django-ninja generates the OpenAPI 3.1 document.

Endpoints live in api/routers/ by area; add one here with a single `api.add_router("", router)` line."""

from django.conf import settings

from api import problems
from api.auth import PerTokenThrottle, PortalSessionAuth, SessionTokenAuth, TokenAuth
from api.common import require_write
from api.openapi import DocumentedAPI
from api.routers import account, billing, cases, documents, einvoice, meters, public, refunds, reports

__all__ = ["api", "require_write"]

api = DocumentedAPI(
    title="iBOK API",
    version="1.0.0",
    description="The customer portal's data for the utility's mobile app and for integrators (docs/api.md).",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionTokenAuth(), PortalSessionAuth()],
    throttle=[PerTokenThrottle(getattr(settings, "IBOK_API_RATE", "120/m"))],  # bench/bench_settings.py lifts it
    docs_url="/docs",
    openapi_url="/openapi.json",
)
problems.install(api)
api.add_router("", "api.readings_photo.router")  # the self-reading with a photo (api/readings_photo.py)

api.add_router("", account.router)
api.add_router("", billing.router)
api.add_router("", meters.router)
api.add_router("", cases.router)
api.add_router("", einvoice.router)
api.add_router("", documents.router)
api.add_router("", public.router)
api.add_router("", refunds.router)
api.add_router("", reports.router)
