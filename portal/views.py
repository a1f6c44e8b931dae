"""Pages that combine apps: the dashboard, the accessibility statement and the staff health check."""

import csv
import hmac
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from prometheus_client import CONTENT_TYPE_LATEST

from accounts import switcher
from accounts.permissions import request_scope
from billing import selectors as billing_selectors
from billing import services as billing_services
from core import selectors as core_selectors
from core import versions
from core.methods import require_http_methods, require_POST, require_safe
from notices import selectors as notices_selectors
from portal import forms, selectors
from portal import metrics as portal_metrics

# The accessibility statement's dates: update them with every audit and every significant change.
ACCESSIBILITY_STATEMENT_PUBLISHED = date(2026, 11, 21)
ACCESSIBILITY_STATEMENT_UPDATED = date(2026, 11, 21)
# The health page turns red past these (docs/operations.md says what each means).
HEARTBEAT_MAX_AGE = timedelta(minutes=5)
OUTBOX_MAX_AGE = timedelta(minutes=10)


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    whole = request_scope(request)
    scope = selectors.dashboard_scope(scope=whole)
    last_sync = billing_selectors.last_successful_sync()
    customer_count = len(whole.everything().customer_ids)

    def board() -> str:
        data = selectors.dashboard_for(scope=whole, today=today, last_sync=last_sync)
        return render_to_string("pages/_dashboard_data.html", selectors.dashboard_context(data))

    context = {
        "board": mark_safe(  # noqa: S308 - rendered by our own template, escaped there
            versions.fragment(
                "dashboard",
                customer_ids=scope.customer_ids,
                identity=(
                    billing_selectors.scope_identity(scope),
                    customer_count,
                    today,
                    last_sync.pk if last_sync else None,
                ),
                render=board,
            )
        ),
        "has_customers": not scope.is_empty,
        "last_sync": last_sync,
        # Current komunikaty, those reaching the user's delivery points first (cached for everyone).
        "announcements": notices_selectors.announcements_for(user=request.user, now=timezone.now(), scope=whole),
    }
    return render(request, "pages/dashboard.html", context)


@login_required
@require_POST
def data_refresh(request: HttpRequest) -> HttpResponse:
    """The customer asks for fresh data: each of their customers is synced now, at most every few minutes."""
    queued = [
        billing_services.customer_sync_request(customer=customer, now=timezone.now())
        for customer in request_scope(request).customers()[:20]
    ]
    if any(queued):
        messages.success(request, _("Your data is being refreshed from the billing system. It takes a moment."))
    else:
        messages.info(request, _("Your data was refreshed a moment ago. Please try again in a few minutes."))
    return redirect("pages:dashboard")


@require_safe
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
    from celery import current_app

    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "redis"


def _heartbeat(now) -> str:
    """A worker consumed beat's heartbeat task lately (only meaningful when the broker answers: see "broker")."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process (no REDIS_URL)"
    beat_at = core_selectors.last_heartbeat()
    if beat_at is None or beat_at < now - HEARTBEAT_MAX_AGE:
        raise RuntimeError(f"no task consumed since {beat_at.isoformat() if beat_at else 'ever'}")
    return beat_at.isoformat()


def _outbox(now) -> str:
    """Nothing owed (queued tasks, messages to the billing system) waits longer than OUTBOX_MAX_AGE."""
    tasks, messages_ = core_selectors.queued_tasks_waiting(), core_selectors.billing_messages_waiting()
    detail = (
        f"{tasks.count} task(s) waiting, oldest {tasks.age_seconds(now):.0f} s; "
        f"{messages_.count} message(s) to billing waiting, oldest {messages_.age_seconds(now):.0f} s"
    )
    if max(tasks.age_seconds(now), messages_.age_seconds(now)) > OUTBOX_MAX_AGE.total_seconds():
        raise RuntimeError(detail)
    return detail


@staff_member_required
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Red (503) when a dependency does not answer, no worker consumed the heartbeat for five minutes, the
    outbox holds work older than ten minutes, or the last successful sync is older than twice its interval."""
    now = timezone.now()
    last_sync = billing_selectors.last_successful_sync()
    sync_max_age = 2 * timedelta(minutes=settings.IBOK_SYNC_INTERVAL_MINUTES)
    sync_ok = last_sync is not None and last_sync.finished_at >= now - sync_max_age
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "broker": _check(_broker),
        "heartbeat": _check(lambda: _heartbeat(now)),
        "outbox": _check(lambda: _outbox(now)),
        "last_sync": {
            "ok": sync_ok,
            "detail": last_sync.finished_at.isoformat() if last_sync else "never",
        },
    }
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics for staff, or for a scraper with `Authorization: Bearer <IBOK_METRICS_TOKEN>`."""
    token = settings.IBOK_METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    allowed = (token and given and hmac.compare_digest(given, token)) or (
        request.user.is_authenticated and request.user.is_staff
    )
    if not allowed:
        return HttpResponse(status=403)
    return HttpResponse(portal_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


# --- property managers: the overview across customers and paying for several -------------------------------------

OVERVIEW_PAGE_SIZE = 50
MANAGER_PAY_LIMIT = 200  # invoices listed at once on the payment page; search narrows the list
PAY_BATCH_SESSION_KEY = "ibok_pay_batch"


def _overview(request: HttpRequest):
    today = timezone.localdate()
    scope = request_scope(request)
    form = forms.OverviewFilterForm(request.GET or None)
    query = form.overview_query()
    return form, query, selectors.overview_customers(scope=scope, today=today, query=query), today


@login_required
@require_safe
def manager_overview(request: HttpRequest) -> HttpResponse:
    """Every customer the user acts for: balance, overdue, next due date, open cases, legalizations (fixed queries)."""
    form, query, customers, today = _overview(request)
    # The sums run over every row the filters leave (thousands for a large manager: the slow part), so they are
    # cached under the customers' data version (core.versions) like the dashboard; the page itself reads its rows
    # only, whose figures PostgreSQL computes after the LIMIT.
    everything = request_scope(request).everything()
    totals = versions.cached(
        "overview-totals",
        customer_ids=everything.customer_ids,
        identity=(billing_selectors.scope_identity(everything), today, query),
        compute=lambda: selectors.overview_totals(customers=customers),
    )
    paginator = Paginator(customers, OVERVIEW_PAGE_SIZE)
    paginator.count = totals.customers  # already counted with the totals: one query fewer
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    context = {
        "form": form,
        "page": page,
        "totals": totals,
        "query": params.urlencode(),
        "sort_query": sort_params.urlencode(),
        "sort": query.sort,
        "today": today,
        "current": switcher.current_label(request) if request_scope(request).chosen else None,
        "pay_batch_started": bool(request.session.get(PAY_BATCH_SESSION_KEY)),
    }
    return render(request, "pages/manager_overview.html", context)


@login_required
@require_safe
def manager_overview_csv(request: HttpRequest) -> HttpResponse:
    """The overview as CSV (every row the filters leave): semicolons and decimal commas, as Polish Excel expects."""
    _form, _query, customers, today = _overview(request)
    # Translated now: the rows are written while the response streams, after the view has returned.
    scope_labels = {True: _("Some delivery points"), False: _("All delivery points")}
    header = [
        _("Customer number"),
        _("Name"),
        _("Address"),
        _("Scope"),
        _("Balance"),
        _("Overdue"),
        _("Next due date"),
        _("Open cases"),
        _("Legalizations ending"),
    ]

    def amount(value) -> str:
        return f"{value:.2f}".replace(".", ",")

    def lines():
        """The CSV a line at a time, the customers read 500 at a time: the first bytes leave at once and memory
        stays flat however many properties there are."""
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff"  # so that Excel reads UTF-8
        yield writer.writerow(header)
        for customer in customers.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    customer.number,
                    customer.name,
                    customer.address,
                    scope_labels[customer.is_partial],
                    amount(customer.balance_due),
                    amount(customer.overdue_due),
                    f"{customer.next_due_date:%Y-%m-%d}" if customer.next_due_date else "",
                    customer.open_cases,
                    customer.legalizations_expiring,
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="nieruchomosci-{today:%Y%m%d}.csv"'
    return response


class _Echo:
    """A file for csv.writer that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _payments_enabled() -> bool:
    config = settings.GETPAID_BACKEND_SETTINGS.get("przelewy24", {})
    return bool(config.get("crc")) and (config.get("transport") == "sandbox" or bool(config.get("api_key")))


@login_required
@require_http_methods(["GET", "POST"])
def manager_pay(request: HttpRequest) -> HttpResponse:
    """Pay invoices of several customers at once: one online payment per customer number, each to the broker.

    The billing system books a payment per customer (docs/billing-sync.md: an online_payment message names one
    customer), so a choice across customers starts one payment per customer; the batch page sends each to the
    broker in turn.
    """
    scope = request_scope(request)
    search = request.GET.get("q", "")[:100]
    payable = list(selectors.manager_payable(scope=scope, search=search)[: MANAGER_PAY_LIMIT + 1])
    more = len(payable) > MANAGER_PAY_LIMIT
    payable = payable[:MANAGER_PAY_LIMIT]
    form = forms.ManagerPayForm(request.POST if request.method == "POST" else None, payable=payable)
    enabled = _payments_enabled()
    if request.method == "POST" and enabled and form.is_valid():
        now = timezone.now()
        references = []
        try:
            with transaction.atomic():
                for customer, invoices in form.cleaned_data["groups"]:
                    broker_payment = billing_services.online_payment_start(
                        user=request.user,
                        customer=customer,
                        invoices=invoices,
                        amount=None,
                        fee=settings.IBOK_PAYMENT_FEE,
                        now=now,
                    )
                    references.append(broker_payment.order.reference)
        except billing_services.OnlinePaymentRefused as exc:
            form.add_error(None, str(exc))
        else:
            request.session[PAY_BATCH_SESSION_KEY] = references
            return redirect("pages:manager-pay-batch")
    today = timezone.localdate()
    selected = {str(value) for value in (form["invoices"].value() or [])}
    rows = [
        {"invoice": invoice, "checked": str(invoice.pk) in selected, "overdue": invoice.due_date < today}
        for invoice in payable
    ]
    context = {
        "form": form,
        "rows": rows,
        "more": more,
        "search": search,
        "fee": settings.IBOK_PAYMENT_FEE,
        "enabled": enabled,
    }
    return render(request, "pages/manager_pay.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def manager_pay_batch(request: HttpRequest) -> HttpResponse:
    """The payments started together: each goes to the broker with its own button; paid ones are marked."""
    scope = request_scope(request)
    references = request.session.get(PAY_BATCH_SESSION_KEY) or []
    payments = selectors.pay_batch(scope=scope, references=references)
    if request.method == "POST":
        chosen = next((p for p in payments if p.reference == request.POST.get("reference")), None)
        if chosen is None or chosen.paid_at is not None or not _payments_enabled():
            raise Http404
        broker_payment = billing_selectors.broker_payment_for(online_payment=chosen)
        return broker_payment.prepare_transaction(
            request=request, email=chosen.payer_email, language=translation.get_language()
        )
    context = {"payments": payments, "fee": settings.IBOK_PAYMENT_FEE}
    return render(request, "pages/manager_pay_batch.html", context)
