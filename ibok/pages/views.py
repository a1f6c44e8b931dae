"""Pages that combine apps: the dashboard, the accessibility statement and the staff health check."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import visible_customers
from billing import selectors as billing_selectors
from billing.sync import runner
from ibok.pages import selectors
from notices import selectors as notices_selectors

# The accessibility statement's dates: update them with every audit and every significant change.
ACCESSIBILITY_STATEMENT_PUBLISHED = date(2026, 11, 21)
ACCESSIBILITY_STATEMENT_UPDATED = date(2026, 11, 21)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    board = selectors.dashboard_for(user=request.user, today=today)
    context = {
        "customers": board.customers,
        "invoices_to_pay": board.invoices_to_pay,
        "recent_payments": board.recent_payments,
        "last_sync": board.last_sync,
        "has_many_customers": board.has_many_customers,
        "today": today,
        # Current komunikaty, those reaching the user's delivery points first (one query).
        "announcements": notices_selectors.announcements_for(user=request.user, now=timezone.now()),
    }
    return render(request, "pages/dashboard.html", context)


@login_required
@require_POST
def data_refresh(request: HttpRequest) -> HttpResponse:
    """The customer asks for fresh data: each of their customers is synced now, at most every few minutes."""
    queued = [
        runner.customer_sync_request(customer=customer, now=timezone.now())
        for customer in visible_customers(user=request.user)[:20]
    ]
    if any(queued):
        messages.success(request, _("Your data is being refreshed from the billing system. It takes a moment."))
    else:
        messages.info(request, _("Your data was refreshed a moment ago. Please try again in a few minutes."))
    return redirect("pages:dashboard")


def accessibility(request: HttpRequest) -> HttpResponse:
    """The deklaracja dostępności: public, linked from every page's footer."""
    context = {
        "published": ACCESSIBILITY_STATEMENT_PUBLISHED,
        "updated": ACCESSIBILITY_STATEMENT_UPDATED,
        "contact_email": getattr(settings, "IBOK_UTILITY_EMAIL", ""),
        "contact_phone": getattr(settings, "IBOK_UTILITY_PHONE", ""),
    }
    return render(request, "pages/accessibility.html", context)


def _check(fn) -> dict:
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001 - the health page reports any failure
        return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "detail": detail}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _cache() -> str:
    cache.set("ibok:health", "ok", 10)
    if cache.get("ibok:health") != "ok":
        raise RuntimeError("cache did not return the value just stored")
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process (no REDIS_URL)"
    from ibok.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "redis"


@staff_member_required
def health(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    last_sync = billing_selectors.last_successful_sync()
    sync_ok = last_sync is not None and last_sync.finished_at >= now - settings.IBOK_SYNC_MAX_AGE
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "broker": _check(_broker),
        "last_sync": {
            "ok": sync_ok,
            "detail": last_sync.finished_at.isoformat() if last_sync else "never",
        },
    }
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)
