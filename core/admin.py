"""The admin's shared pieces: lists that never count millions of rows, billing-system data kept read-only (a
superuser may switch editing on for a while, audited), and the audit log and outbox lists."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.validators import validate_ipv46_address
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.models import AuditLogEntry, OutboxMessage, QueuedTask, SecurityEvent
from core.security import identifier_hash
from core.services import audit_record

# The admin carries the utility's name (in the header and every page's title), never "Django".
admin.site.site_header = settings.IBOK_UTILITY_NAME
admin.site.site_title = format_lazy("{} · {}", settings.IBOK_UTILITY_NAME, _("iBOK administration"))
admin.site.index_title = _("iBOK administration")

# --- Counting ------------------------------------------------------------------------------------------------------

# Up to this many rows a list is counted exactly; above it, a filtered list says "more than", an unfiltered one
# shows PostgreSQL's estimate of the table's size (pg_class.reltuples, kept by autovacuum and ANALYZE).
COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_LIMIT + 1 rows, so a list of millions costs what a list of ten thousand does.

    `count_is_estimate` (a whole table: its planner estimate) and `count_is_capped` (a filtered list with more rows
    than the limit) let templates/admin/pagination.html say "about" and "more than".
    """

    count_is_estimate = False
    count_is_capped = False

    @cached_property
    def count(self) -> int:
        queryset: QuerySet = self.object_list
        if not queryset.query.where and connection.vendor == "postgresql":
            estimate = table_estimate(queryset.model._meta.db_table)
            if estimate > COUNT_LIMIT:
                self.count_is_estimate = True
                return estimate
        counted = queryset.order_by()[: COUNT_LIMIT + 1].count()
        if counted > COUNT_LIMIT:
            self.count_is_capped = True
            return COUNT_LIMIT
        return counted


def table_estimate(table: str) -> int:
    """PostgreSQL's estimate of a table's rows (-1 before its first ANALYZE, so 0 then)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return max(row[0], 0) if row else 0


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """The distinct values of an indexed column, read from its index one value at a time (a "loose index scan":
    a recursive query of one index probe per value) instead of a DISTINCT over every row of the table."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(field.column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH RECURSIVE v(value) AS ((SELECT {column} FROM {table} WHERE {column} IS NOT NULL "
                f"ORDER BY 1 LIMIT 1) UNION ALL SELECT (SELECT {column} FROM {table} WHERE {column} > v.value "
                f"ORDER BY 1 LIMIT 1) FROM v WHERE v.value IS NOT NULL) SELECT value FROM v WHERE value IS NOT NULL"
            )
            self.lookup_choices = [row[0] for row in cursor.fetchall()]


class LargeListMixin:
    """For tables of millions: no full COUNT(*) of the table on every page, no date drill-down (its MIN/MAX and
    DISTINCT over the whole table; date filters, list_filter on the date field, run no query), fifty rows a page."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    date_hierarchy = None
    list_per_page = 50  # half Django's 100: rendering the rows is most of what a list costs once its queries are fast


# --- Billing-system data is read-only --------------------------------------------------------------------------------

OVERRIDE_SESSION_KEY = "ibok_admin_override_until"
OVERRIDE_MINUTES = 15  # templates/admin/ibok_index.html says so


def override_until(request: HttpRequest) -> datetime | None:
    """Until when this superuser may edit billing-system data, or None: switched on explicitly, for a while."""
    user = getattr(request, "user", None)
    if user is None or not user.is_superuser or not hasattr(request, "session"):
        return None
    stamp = request.session.get(OVERRIDE_SESSION_KEY)
    if stamp is None:
        return None
    until = datetime.fromtimestamp(stamp, tz=timezone.get_current_timezone())
    return until if until > timezone.now() else None


def override_active(request: HttpRequest) -> bool:
    return override_until(request) is not None


class BillingMirrorMixin:
    """A mirror of the billing system (the source of truth): read-only in the admin, as are its inlines.

    The next sync would overwrite an edit made here anyway; a superuser who must correct a row before then
    switches editing on explicitly on the admin's index page (for OVERRIDE_MINUTES, in the audit log).
    """

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return override_active(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return override_active(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return override_active(request) and super().has_delete_permission(request, obj)


# --- The audit log and the outbox ----------------------------------------------------------------------------------


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(LargeListMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "actor", "action", "object_type", "object_id", "ip_address"]
    list_filter = [("action", IndexedValuesFilter), ("object_type", IndexedValuesFilter), "occurred_at"]
    search_fields = ["=action", "=object_id", "=actor__username", "=actor__email"]
    search_help_text = _("An action, an object id, or the username or e-mail of who did it, exactly.")
    list_select_related = ["actor"]
    ordering = ["-occurred_at", "-id"]
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        actors = list(
            get_user_model().objects.filter(Q(username=term) | Q(email__iexact=term)).values_list("pk", flat=True)
        )
        return queryset.filter(Q(action=term) | Q(object_id=term) | Q(actor__in=actors)), False

    def get_urls(self):
        override = path("override/", self.admin_site.admin_view(self.override_view), name="core_admin_override")
        return [override, *super().get_urls()]

    def override_view(self, request: HttpRequest) -> HttpResponse:
        """Switch editing of billing-system data on (for OVERRIDE_MINUTES) or off; superusers only, audited."""
        if request.method != "POST" or not request.user.is_superuser:
            raise PermissionDenied
        now = timezone.now()
        if request.POST.get("override") == "on":
            until = now + timedelta(minutes=OVERRIDE_MINUTES)
            request.session[OVERRIDE_SESSION_KEY] = until.timestamp()
            audit_record(
                now=now, action="admin.override_started", actor=request.user, details={"minutes": OVERRIDE_MINUTES}
            )
            messages.warning(
                request,
                _("Billing-system data can be edited until %(time)s. The next sync overwrites what differs.")
                % {"time": timezone.localtime(until).strftime("%H:%M")},
            )
        else:
            request.session.pop(OVERRIDE_SESSION_KEY, None)
            audit_record(now=now, action="admin.override_ended", actor=request.user)
            messages.success(request, _("Billing-system data is read-only again."))
        return redirect("admin:index")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(LargeListMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "customer_number", "status", "attempts", "delivered_at", "next_attempt_at"]
    list_filter = ["status", "created_at"]  # no "kind": a DISTINCT over the whole outbox
    search_fields = ["=customer_number", "=idempotency_key"]
    search_help_text = _("A customer number or an idempotency key, exactly.")
    ordering = ["-created_at", "-id"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(customer_number=term) | Q(idempotency_key=term)), False


@admin.register(QueuedTask)
class QueuedTaskAdmin(LargeListMixin, admin.ModelAdmin):
    """Background work owed by committed changes; relayed_at empty means it still waits for the broker."""

    list_display = ["created_at", "task", "relayed_at", "attempts", "last_error"]
    list_filter = [("relayed_at", admin.EmptyFieldListFilter)]  # no "task": a DISTINCT over the whole table
    ordering = ["-id"]
    readonly_fields = [f.name for f in QueuedTask._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The security log, read-only. The search takes a customer number, an e-mail or a login (hashed the way the
    log stores it), or a client address."""

    list_display = ["occurred_at", "kind", "ip_address", "identifier_hash"]
    list_filter = ["kind"]
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in SecurityEvent._meta.fields]
    search_fields = ["identifier_hash"]  # shows the search box; the search itself is get_search_results
    search_help_text = _("A customer number, an e-mail address, a login or an IP address.")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            validate_ipv46_address(term)
        except ValidationError:
            return queryset.filter(identifier_hash=identifier_hash(term)), False
        return queryset.filter(ip_address=term), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
