from django.contrib import admin

from core.models import AuditLogEntry, OutboxMessage, QueuedTask


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


@admin.register(QueuedTask)
class QueuedTaskAdmin(admin.ModelAdmin):
    """Background work owed by committed changes; relayed_at empty means it still waits for the broker."""

    list_display = ["created_at", "task", "relayed_at", "attempts", "last_error"]
    list_filter = ["task", ("relayed_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in QueuedTask._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
