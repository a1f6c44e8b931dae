from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.utils.translation import gettext_lazy as _

from core.models import AuditLogEntry, OutboxMessage, SecurityEvent
from core.security import identifier_hash


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "actor", "action", "object_type", "object_id", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "=object_id", "actor__username", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "customer_number", "status", "attempts", "delivered_at", "next_attempt_at"]
    list_filter = ["status", "kind"]
    search_fields = ["=customer_number", "=idempotency_key"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]


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
