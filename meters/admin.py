from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from meters import services
from meters.models import Meter, Reading, ReadingStatus


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
    list_display = ["meter", "read_date", "value", "source", "status", "portal_reference", "submitted_at"]
    list_filter = ["source", "status"]
    search_fields = ["=meter__serial_number", "=meter__delivery_point__customer__number", "=portal_reference"]
    list_select_related = ["meter"]
    autocomplete_fields = ["meter"]
    readonly_fields = ["portal_reference", "submitted_at", "submitted_by"]
    date_hierarchy = "read_date"
    actions = ["reject_pending"]

    @admin.action(description=_("Reject the selected pending self-readings"), permissions=["change"])
    def reject_pending(self, request, queryset):
        rejected = 0
        for reading in queryset.filter(status=ReadingStatus.PENDING, external_id__isnull=True):
            services.self_reading_reject(reading=reading, now=timezone.now(), actor=request.user)
            rejected += 1
        self.message_user(
            request,
            ngettext("%(count)d self-reading rejected.", "%(count)d self-readings rejected.", rejected)
            % {"count": rejected},
            messages.SUCCESS,
        )
