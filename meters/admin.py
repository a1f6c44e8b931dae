from django.contrib import admin

from meters.models import Meter, Reading


class ReadingInline(admin.TabularInline):
    model = Reading
    extra = 0
    fields = ["read_date", "value", "source", "status"]
    ordering = ["-read_date", "-id"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-read_date", "-id")


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = [
        "serial_number",
        "delivery_point",
        "kind",
        "medium",
        "installed_date",
        "removed_date",
        "legalization_valid_until",
    ]
    list_filter = ["kind", "medium", ("removed_date", admin.EmptyFieldListFilter)]
    search_fields = [
        "=serial_number",
        "=delivery_point__code",
        "=delivery_point__customer__number",
        "delivery_point__street",
    ]
    list_select_related = ["delivery_point"]
    autocomplete_fields = ["delivery_point"]
    date_hierarchy = "legalization_valid_until"
    inlines = [ReadingInline]


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["meter", "read_date", "value", "source", "status"]
    list_filter = ["source", "status"]
    search_fields = ["=meter__serial_number", "=meter__delivery_point__customer__number"]
    list_select_related = ["meter"]
    autocomplete_fields = ["meter"]
    date_hierarchy = "read_date"
