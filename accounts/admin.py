from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from accounts.models import Contract, Customer, CustomerAccess, DeliveryPoint, User


class CustomerAccessInline(admin.TabularInline):
    model = CustomerAccess
    extra = 0
    autocomplete_fields = ["customer"]
    filter_horizontal = ["points"]
    fields = ["customer", "role", "all_points", "granted_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    search_fields = ["username", "email", "first_name", "last_name", "customer_accesses__customer__number"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Portal"), {"fields": ["phone", "language"]}),
    ]
    inlines = [CustomerAccessInline]


class ContractInline(admin.TabularInline):
    model = Contract
    extra = 0
    fields = ["number", "kind", "signed_date", "valid_from", "valid_until"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(ExportMixin, admin.ModelAdmin):
    list_display = ["number", "name", "kind", "city", "address_line", "email", "source_updated_at"]
    list_filter = ["kind", "city"]
    search_fields = ["=number", "name", "street", "city", "email", "nip", "=external_id"]
    readonly_fields = ["external_id", "source_updated_at"]
    inlines = [ContractInline]

    @admin.display(description=_("address"))
    def address_line(self, obj: Customer) -> str:
        return obj.address_line


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "kind", "signed_date", "valid_from", "valid_until"]
    list_filter = ["kind", ("valid_until", admin.EmptyFieldListFilter)]
    search_fields = ["=number", "=customer__number", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "signed_date"


@admin.register(DeliveryPoint)
class DeliveryPointAdmin(admin.ModelAdmin):
    list_display = ["code", "customer", "service", "tariff_group", "street", "building", "apartment", "city"]
    list_filter = ["service", "tariff_group", "city"]
    search_fields = ["=code", "=customer__number", "customer__name", "street", "city"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "contract"]


@admin.register(CustomerAccess)
class CustomerAccessAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "role", "all_points", "granted_at"]
    list_filter = ["role", "all_points"]
    search_fields = ["user__username", "user__email", "=customer__number", "customer__name"]
    list_select_related = ["user", "customer"]
    autocomplete_fields = ["user", "customer"]
    filter_horizontal = ["points"]
