import mimetypes

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import DeliveryPoint
from accounts.search import CustomerSearchMixin
from core.admin import BillingMirrorMixin, LargeListMixin
from meters import services
from meters.models import Meter, Reading, ReadingStatus


class ReadingInline(BillingMirrorMixin, admin.TabularInline):
    model = Reading
    extra = 0
    fields = ["read_date", "value", "source", "status"]
    ordering = ["-read_date", "-id"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-read_date", "-id")


def points_of(customer_ids: list[int]) -> list[int]:
    return list(DeliveryPoint.objects.filter(customer__in=customer_ids).values_list("id", flat=True))


@admin.register(Meter)
class MeterAdmin(LargeListMixin, BillingMirrorMixin, CustomerSearchMixin, admin.ModelAdmin):
    list_display = [
        "serial_number",
        "delivery_point",
        "kind",
        "medium",
        "installed_date",
        "removed_date",
        "legalization_valid_until",
    ]
    list_filter = ["kind", "medium", ("removed_date", admin.EmptyFieldListFilter), "legalization_valid_until"]
    search_fields = ["=serial_number", "=delivery_point__code", "=delivery_point__customer__number"]
    search_exact_fields = ("serial_number",)
    search_help_text = _(
        "A meter's serial number, a delivery point or customer number exactly; or words (three letters or more) "
        "from the customer's name, street or e-mail."
    )
    list_select_related = ["delivery_point"]
    autocomplete_fields = ["delivery_point"]
    inlines = [ReadingInline]

    def search_extra(self, term: str) -> Q:
        return Q(delivery_point__in=list(DeliveryPoint.objects.filter(code=term).values_list("id", flat=True)))

    def customer_rows(self, customer_ids: list[int]) -> Q:
        return Q(delivery_point__in=points_of(customer_ids))


@admin.register(Reading)
class ReadingAdmin(LargeListMixin, BillingMirrorMixin, CustomerSearchMixin, admin.ModelAdmin):
    """Read-only but for the one thing the office does here: reject customers' pending self-readings."""

    list_display = [
        "meter", "read_date", "value", "source", "status", "photo_check", "portal_reference", "submitted_at",
    ]  # fmt: skip
    # "Photo check: taken long before / in the future" is the office's queue of photo readings to look at.
    list_filter = ["source", "status", "photo_check", "read_date"]
    search_fields = ["=meter__serial_number", "=meter__delivery_point__customer__number", "=portal_reference"]
    search_exact_fields = ("portal_reference",)
    search_help_text = _(
        "A meter's serial number, a portal reference or a customer number exactly; or words (three letters or more) "
        "from the customer's name, street or e-mail."
    )
    list_select_related = ["meter"]
    autocomplete_fields = ["meter"]
    readonly_fields = [
        "portal_reference", "submitted_at", "submitted_by", "photo_preview", "photo_taken_at", "photo_check",
    ]  # fmt: skip
    # The stored file is private: never a link to MEDIA_URL, only the staff-only view below.
    exclude = ["photo"]
    actions = ["reject_pending"]

    def get_urls(self):
        photo = path(
            "<int:reading_id>/photo/", self.admin_site.admin_view(self.photo_view), name="meters_reading_photo"
        )
        return [photo, *super().get_urls()]

    def photo_view(self, request, reading_id: int) -> FileResponse:
        """The customer's photo of the meter, for staff who may view readings."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        reading = Reading.objects.filter(pk=reading_id).exclude(photo="").first()
        if reading is None:
            raise Http404
        content_type = mimetypes.guess_type(reading.photo.name)[0] or "application/octet-stream"
        response = FileResponse(reading.photo.open("rb"), content_type=content_type)
        response["Content-Disposition"] = "inline"
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description=_("photo"))
    def photo_preview(self, reading: Reading) -> str:
        if not reading.photo:
            return _("No photo")
        url = reverse("admin:meters_reading_photo", args=[reading.pk])
        return format_html(
            '<a href="{}"><img src="{}" alt="{}" class="reading-photo" width="320"></a>',
            url,
            url,
            _("Photo of meter %(serial)s") % {"serial": reading.meter.serial_number},
        )

    def search_extra(self, term: str) -> Q:
        return Q(meter__in=list(Meter.objects.filter(serial_number=term).values_list("id", flat=True)))

    def customer_rows(self, customer_ids: list[int]) -> Q:
        meters = Meter.objects.filter(delivery_point__in=points_of(customer_ids)).values_list("id", flat=True)
        return Q(meter__in=list(meters))

    def has_reject_permission(self, request) -> bool:
        # Rejecting a pending self-reading is the office's own decision, not an edit of billing-system data.
        return request.user.has_perm("meters.change_reading")

    @admin.action(description=_("Reject the selected pending self-readings"), permissions=["reject"])
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
