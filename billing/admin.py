from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from billing.models import CustomerBalance, Invoice, InvoiceLine, Payment, PaymentAllocation, SyncRun


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ["position", "description", "quantity", "unit", "unit_price_net", "net", "vat_rate", "vat", "gross"]


class AllocationInline(admin.TabularInline):
    model = PaymentAllocation
    extra = 0
    autocomplete_fields = ["invoice"]


@admin.register(Invoice)
class InvoiceAdmin(ExportMixin, admin.ModelAdmin):
    list_display = ["number", "customer", "kind", "issue_date", "due_date", "gross", "outstanding", "ksef_number"]
    list_filter = ["kind", "issue_date", "due_date"]
    search_fields = ["=number", "=customer__number", "customer__name", "=ksef_number"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "delivery_point", "corrected_invoice"]
    date_hierarchy = "issue_date"
    inlines = [InvoiceLineInline]


@admin.register(Payment)
class PaymentAdmin(ExportMixin, admin.ModelAdmin):
    list_display = ["external_id", "customer", "paid_date", "amount", "channel", "title"]
    list_filter = ["channel", "paid_date"]
    search_fields = ["=external_id", "=customer__number", "customer__name", "title"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "paid_date"
    inlines = [AllocationInline]


@admin.register(CustomerBalance)
class CustomerBalanceAdmin(admin.ModelAdmin):
    list_display = ["customer", "balance", "overdue", "as_of"]
    search_fields = ["=customer__number", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "source", "status", "created", "updated", "rejected"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    @admin.display(description=_("created"))
    def created(self, obj: SyncRun) -> int:
        return obj.total("created")

    @admin.display(description=_("updated"))
    def updated(self, obj: SyncRun) -> int:
        return obj.total("updated")

    @admin.display(description=_("rejected"))
    def rejected(self, obj: SyncRun) -> int:
        return obj.total("rejected")

    def has_add_permission(self, request) -> bool:
        return False
