"""Staff side of e-invoices: the queue of requests with their state, paper forms with scans, deliveries.

Consents are legal records: staff read them but never edit them; a paper consent or resignation is recorded
as a PaperForm (date and scan), which runs the same services as the portal.
"""

from pathlib import PurePath

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import FileExtensionValidator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.search import CustomerSearchMixin
from billing.models import Invoice
from core import uploads
from core.admin import LargeListMixin
from einvoice import selectors, services
from einvoice.models import (
    AddressVerification,
    Consent,
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    EinvoiceTerms,
    PaperForm,
    PaperFormKind,
)

SCAN_EXTENSIONS = ["pdf", "jpg", "jpeg", "png"]
SCAN_MAX_BYTES = 10 * 1024 * 1024


@admin.register(EinvoiceTerms)
class EinvoiceTermsAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "published_at"]
    search_fields = ["version", "title"]
    ordering = ["-published_at", "-id"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # accepted versions are evidence


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = ConsentEvent
    fields = ["occurred_at", "kind", "email", "actor", "ip_address", "details"]
    readonly_fields = fields
    ordering = ["-occurred_at", "-id"]


class VerificationInline(ReadOnlyInline):
    model = AddressVerification
    fields = ["purpose", "email", "created_at", "expires_at", "email_sent_at", "confirmed_at", "cancelled_at"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]


class WaitingFilter(admin.SimpleListFilter):
    title = _("address confirmation")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("yes", _("A link waits for a click"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            open_links = AddressVerification.objects.filter(
                consent=OuterRef("pk"), confirmed_at__isnull=True, cancelled_at__isnull=True
            )
            return queryset.filter(Exists(open_links))
        return queryset


@admin.register(Consent)
class ConsentAdmin(LargeListMixin, CustomerSearchMixin, admin.ModelAdmin):
    """The queue of e-invoice requests: every consent with its state; filter by state, source, waiting links."""

    list_display = ["customer", "status", "source", "email", "accepted_at", "active_from", "ends_on", "case_link"]
    list_filter = ["status", "source", WaitingFilter, "accepted_at"]
    search_fields = ["=customer__number", "customer__name", "email"]
    search_exact_fields = ("email",)
    list_select_related = ["customer"]
    ordering = ["-accepted_at", "-id"]
    inlines = [EventInline, VerificationInline]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in Consent._meta.fields] + ["case_link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # from the portal, registration, or a recorded paper form

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("case"))
    def case_link(self, obj: Consent):
        if not obj.case_id:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:tickets_case_change", args=[obj.case_id]), obj.case_id)


class PaperFormAdminForm(forms.ModelForm):
    terms = forms.ModelChoiceField(
        label=_("e-invoice terms accepted"),
        queryset=EinvoiceTerms.objects.order_by("-published_at", "-id"),
        required=False,
        help_text=_("For a request: the version printed on the form (the one in force by default)."),
    )

    class Meta:
        model = PaperForm
        fields = ["customer", "kind", "signed_date", "received_date", "email", "ends_on", "paper_address", "scan"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terms"].initial = selectors.terms_current(now=timezone.now())
        self.fields["scan"].validators.append(FileExtensionValidator(SCAN_EXTENSIONS))

    def clean_scan(self):
        scan = self.cleaned_data["scan"]
        if scan and scan.size > SCAN_MAX_BYTES:
            raise forms.ValidationError(_("The scan is larger than 10 MB."))
        if scan and uploads.sniff(scan) is None:
            raise forms.ValidationError(_("The scan must be a PDF, JPG or PNG file."))
        return scan

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        kind = data.get("kind")
        if kind == PaperFormKind.CONSENT:
            if not data.get("email"):
                self.add_error("email", _("Give the e-invoice address from the form."))
            if not data.get("terms") and not self.fields["terms"].initial:
                self.add_error("terms", _("Choose the terms version the customer accepted."))
        elif kind == PaperFormKind.RESIGNATION:
            if not data.get("ends_on"):
                self.add_error("ends_on", _("Give the date from which paper invoices go out."))
            if not data.get("paper_address"):
                self.add_error("paper_address", _("Give the postal address for paper invoices."))
        if self.errors:
            return data
        # The record is made here so that a refusal (an open consent, nothing to end) shows on the form.
        try:
            if kind == PaperFormKind.CONSENT:
                self.instance = services.paper_consent_record(
                    customer=data["customer"],
                    email=data["email"],
                    signed_date=data["signed_date"],
                    received_date=data["received_date"],
                    scan=data["scan"],
                    terms=data.get("terms") or self.fields["terms"].initial,
                    actor=self.actor,
                    now=timezone.now(),
                )
            else:
                self.instance = services.paper_resignation_record(
                    customer=data["customer"],
                    signed_date=data["signed_date"],
                    received_date=data["received_date"],
                    paper_from=data["ends_on"],
                    paper_address=data["paper_address"],
                    scan=data["scan"],
                    actor=self.actor,
                    now=timezone.now(),
                )
        except services.EinvoiceError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data

    def _post_clean(self):
        # The instance was saved by the service; nothing of the form is copied onto it again.
        if self.instance.pk is None:
            super()._post_clean()


@admin.register(PaperForm)
class PaperFormAdmin(admin.ModelAdmin):
    """Paper requests and resignations recorded by the office, each with the date on it and its scan."""

    form = PaperFormAdminForm
    list_display = ["customer", "kind", "signed_date", "received_date", "email", "ends_on", "recorded_by"]
    list_filter = ["kind", "received_date"]
    search_fields = ["=customer__number", "customer__name", "email"]
    list_select_related = ["customer", "recorded_by"]
    autocomplete_fields = ["customer"]
    ordering = ["-recorded_at", "-id"]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return [
                "customer",
                "kind",
                "signed_date",
                "received_date",
                "email",
                "terms",
                "ends_on",
                "paper_address",
                "scan",
            ]
        return [
            "customer",
            "kind",
            "signed_date",
            "received_date",
            "email",
            "ends_on",
            "paper_address",
            "scan_link",
            "recorded_by",
            "recorded_at",
            "consent",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return []
        return self.get_fields(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        pass  # saved by the service in the form's clean()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("scan"))
    def scan_link(self, obj: PaperForm):
        url = reverse("admin:einvoice_paperform_scan", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, PurePath(obj.scan.name).name)

    def get_urls(self):
        return [
            path("<int:form_id>/scan/", self.admin_site.admin_view(self.scan_view), name="einvoice_paperform_scan"),
            *super().get_urls(),
        ]

    def scan_view(self, request: HttpRequest, form_id: int) -> FileResponse:
        """The scan, to staff who may see paper forms only (MEDIA_ROOT is never served directly)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        paper = PaperForm.objects.filter(pk=form_id).first()
        if paper is None or not paper.scan:
            raise Http404
        return FileResponse(paper.scan.open("rb"), as_attachment=True, filename=PurePath(paper.scan.name).name)


@admin.register(Delivery)
class DeliveryAdmin(LargeListMixin, CustomerSearchMixin, admin.ModelAdmin):
    """Invoices e-mailed to e-invoice customers; failures stay here for staff, who may send them again."""

    list_display = ["invoice", "customer", "email", "status", "attempts", "created_at", "sent_at", "last_error"]
    list_filter = ["status", "created_at"]
    search_fields = ["=invoice__number", "=customer__number", "email"]
    search_exact_fields = ("email",)
    list_select_related = ["invoice", "customer"]
    ordering = ["-created_at", "-id"]
    actions = ["send_again"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in Delivery._meta.fields]

    def search_extra(self, term: str) -> Q:
        return Q(invoice__in=list(Invoice.objects.filter(number=term).values_list("id", flat=True)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=_("Send the failed e-mails again"), permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        ids = list(queryset.filter(status=DeliveryStatus.FAILED).values_list("id", flat=True))
        count = services.deliveries_retry(delivery_ids=ids, actor=request.user, now=timezone.now())
        message = ngettext("%(count)d e-mail queued again.", "%(count)d e-mails queued again.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
