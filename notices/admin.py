"""Staff: announcements (publishing pushes them), documents, the log of notifications with failures to retry."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import LargeListMixin
from notices import documents, services
from notices.models import (
    Announcement,
    Document,
    InboundSms,
    LocalSms,
    Notification,
    NotificationStatus,
    PhoneVerification,
)


class AnnouncementAdminForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["kind", "title", "body", "starts_at", "ends_at", "city", "streets", "points", "published"]
        widgets = {"streets": forms.Textarea(attrs={"rows": 4, "cols": 40})}

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The end must be after the start."))
        if (data.get("streets") or "").strip() and not (data.get("city") or "").strip():
            self.add_error("city", _("Give the city of the streets."))
        return data


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    form = AnnouncementAdminForm
    list_display = ["title", "kind", "starts_at", "ends_at", "area", "published", "published_at", "reached"]
    list_filter = ["kind", "published", "starts_at"]
    search_fields = ["title", "body", "city", "streets"]
    autocomplete_fields = ["points"]
    readonly_fields = ["published_at", "targets_resolved_at", "created_at", "created_by"]
    date_hierarchy = "starts_at"
    fieldsets = [
        (None, {"fields": ["kind", "title", "body", "starts_at", "ends_at"]}),
        (
            _("Affected area"),
            {
                "fields": ["city", "streets", "points"],
                "description": _(
                    "A city alone reaches all of it; with streets, only those streets. Chosen delivery points are "
                    "added. With no area the announcement is for everyone and is not sent to anybody."
                ),
            },
        ),
        (None, {"fields": ["published", "published_at", "targets_resolved_at", "created_at", "created_by"]}),
    ]

    @admin.display(description=_("area"))
    def area(self, obj: Announcement) -> str:
        return obj.area_label or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(reached_count=Count("target_rows"))

    @admin.display(description=_("delivery points reached"), ordering="reached_count")
    def reached(self, obj: Announcement) -> int:
        return obj.reached_count

    def save_model(self, request: HttpRequest, obj: Announcement, form, change: bool) -> None:
        if not change:
            obj.created_at = timezone.now()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        announcement = form.instance
        try:
            reached = services.announcement_publish(announcement=announcement, now=timezone.now(), actor=request.user)
        except services.AnnouncementInvalid as exc:
            messages.error(request, str(exc))
            return
        if announcement.published:
            messages.info(
                request,
                ngettext(
                    "The announcement reaches %(count)d delivery point.",
                    "The announcement reaches %(count)d delivery points.",
                    reached,
                )
                % {"count": reached},
            )


class DocumentAdminForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title", "category", "version", "description", "customer", "file", "published_at"]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            try:
                documents.check_pdf(upload)
            except documents.DocumentRejected as exc:
                raise forms.ValidationError(str(exc)) from exc
        return upload


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentAdminForm
    list_display = ["title", "category", "version", "customer", "published_at", "size", "external_id"]
    list_filter = ["category", ("customer", admin.EmptyFieldListFilter), "published_at"]
    search_fields = ["title", "description", "=customer__number", "customer__name", "=external_id"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["original_name", "size", "external_id", "uploaded_at", "uploaded_by"]

    def save_model(self, request: HttpRequest, obj: Document, form, change: bool) -> None:
        if "file" in form.changed_data:
            obj.original_name = documents.clean_name(obj.file.name)
            obj.size = obj.file.size
        if not change:
            obj.uploaded_at = timezone.now()
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)


class FailedFirst(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return NotificationStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(LargeListMixin, admin.ModelAdmin):
    """The log of every notification: staff see what went to whom, and the failures (filter: Failed)."""

    list_display = ["created_at", "kind", "channel", "recipient", "customer", "status", "attempts", "sent_at"]
    list_filter = [FailedFirst, "kind", "channel", "created_at"]
    search_fields = ["recipient", "=customer__number", "user__username", "user__email", "subject", "object_key"]
    list_select_related = ["customer"]
    actions = ["retry_failed"]
    readonly_fields = [
        "user",
        "customer",
        "kind",
        "channel",
        "object_key",
        "recipient",
        "subject",
        "body",
        "status",
        "attempts",
        "created_at",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    exclude = ["html"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=_("Send the selected failed notifications again"))
    def retry_failed(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.filter(status=NotificationStatus.FAILED).values_list("pk", flat=True))
        count = services.notifications_retry(notification_ids=ids, now=timezone.now(), actor=request.user)
        self.message_user(
            request,
            ngettext("%(count)d notification will be sent again.", "%(count)d notifications will be sent again.", count)
            % {"count": count},
        )


@admin.register(PhoneVerification)
class PhoneVerificationAdmin(admin.ModelAdmin):
    list_display = ["user", "phone", "created_at", "attempts", "verified_at"]
    search_fields = ["user__username", "user__email", "phone"]
    readonly_fields = ["user", "phone", "created_at", "expires_at", "attempts", "verified_at"]
    exclude = ["code_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(LocalSms)
class LocalSmsAdmin(admin.ModelAdmin):
    """Only with the local SMS backend (development, demo): what would have been sent."""

    list_display = ["recorded_at", "phone", "text"]
    search_fields = ["phone", "text"]
    readonly_fields = ["phone", "text", "reference", "recorded_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboundSms)
class InboundSmsAdmin(LargeListMixin, admin.ModelAdmin):
    """Readings by SMS as they came from the gateway, with what was decided and answered. Read-only."""

    list_display = ["received_at", "sender", "text", "outcome", "meter", "portal_reference", "replied_at"]
    list_filter = ["outcome", "received_at"]
    search_fields = ["=gateway_message_id", "=sender", "=portal_reference", "=meter__serial_number"]
    search_help_text = _("A gateway message id, a sender's number, a portal reference or a meter number, exactly.")
    list_select_related = ["meter"]
    ordering = ["-received_at", "-id"]
    readonly_fields = [f.name for f in InboundSms._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
