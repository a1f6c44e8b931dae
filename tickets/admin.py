"""Staff work on cases: a queue by type and status, the thread with an inline reply, internal notes, assignment."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest
from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import DeliveryPoint
from accounts.search import CustomerSearchMixin
from core.admin import LargeListMixin
from tickets import services
from tickets.downloads import attachment_response
from tickets.models import Attachment, Case, CaseNote, CaseStatus, Message, Sender

STAFF_STATUS_LABELS = {
    CaseStatus.WAITING_FOR_CUSTOMER: pgettext_lazy("case status for staff", "Waiting for the customer")
}


class CaseAdminForm(forms.ModelForm):
    reply = forms.CharField(
        label=_("Reply to the customer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_("The customer sees it in the portal and is told by e-mail."),
    )
    internal_note = forms.CharField(
        label=_("Internal note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("Only staff see internal notes; the customer never does."),
    )

    class Meta:
        model = Case
        fields = ["status", "assigned_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff read the status from the office's side: the customer's "waiting for your reply" is theirs.
        self.fields["status"].choices = [
            (value, STAFF_STATUS_LABELS.get(value, label)) for value, label in self.fields["status"].choices
        ]


class PublicReportFilter(admin.SimpleListFilter):
    title = _("reported")
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("public", _("Without an account")), ("customer", _("By a customer"))]

    def queryset(self, request, queryset):
        if self.value() == "public":
            return queryset.filter(customer__isnull=True)
        if self.value() == "customer":
            return queryset.filter(customer__isnull=False)
        return queryset


class AssignmentFilter(admin.SimpleListFilter):
    title = _("assignment")
    parameter_name = "assignment"

    def lookups(self, request, model_admin):
        return [("mine", _("Assigned to me")), ("nobody", _("Not assigned"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


@admin.register(Case)
class CaseAdmin(LargeListMixin, CustomerSearchMixin, admin.ModelAdmin):
    form = CaseAdminForm
    list_display = [
        "id",
        "subject",
        "status",
        "case_type",
        "customer",
        "delivery_point",
        "opened_at",
        "last_message_at",
        "assigned_to",
        "unread_from_customer",
    ]
    list_display_links = ["id", "subject"]
    list_filter = [
        "status",
        "case_type",
        PublicReportFilter,
        AssignmentFilter,
        ("assigned_to", admin.RelatedOnlyFieldListFilter),
        "opened_at",
    ]
    search_fields = ["=id", "subject", "=customer__number", "customer__name", "=delivery_point__code"]
    search_integer_fields = ("id",)
    search_text_fields = ("subject",)
    search_help_text = _(
        "A case number, a delivery point or customer number exactly; or words (three letters or more) from the "
        "subject or the customer's name, street or e-mail."
    )
    list_select_related = ["customer", "delivery_point", "assigned_to"]
    ordering = ["-last_message_at", "-id"]  # tickets_case_queue_idx
    readonly_fields = [
        "customer",
        "delivery_point",
        "location",
        "reporter_email",
        "reporter_phone",
        "opened_by",
        "case_type",
        "subject",
        "opened_at",
        "closed_at",
        "request_data",
        "thread",
        "internal_notes",
    ]
    fieldsets = [
        (
            _("Case"),
            {
                "fields": [
                    "customer",
                    "delivery_point",
                    "location",
                    "reporter_email",
                    "reporter_phone",
                    "opened_by",
                    "case_type",
                    "subject",
                    "opened_at",
                    "closed_at",
                    "request_data",
                ]
            },
        ),
        (_("Thread"), {"fields": ["thread"]}),
        (_("Handling"), {"fields": ["status", "assigned_to", "reply", "internal_note"]}),
        (_("Internal notes"), {"fields": ["internal_notes"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        # Counted per case in a subquery, for the rows of the page only (tickets_msg_unread_cust_idx), not by
        # grouping every case with its messages before the page is taken.
        unread = (
            Message.objects.filter(case=OuterRef("pk"), sender=Sender.CUSTOMER, read_at__isnull=True)
            .order_by()
            .values("case")
            .annotate(count=Count("*"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(unread_from_customer=Coalesce(Subquery(unread, output_field=IntegerField()), 0))
        )

    def search_extra(self, term: str) -> Q:
        return Q(delivery_point__in=list(DeliveryPoint.objects.filter(code=term).values_list("id", flat=True)))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a customer's matter stays on record; staff close it

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Cases come from customers (or from the portal's requests), never typed in by staff.
        return False

    @admin.display(description=_("unread"), ordering="unread_from_customer")
    def unread_from_customer(self, obj: Case) -> int:
        return obj.unread_from_customer

    @admin.display(description=_("request data"))
    def request_data(self, obj: Case) -> SafeString | str:
        if not obj.fields:
            return "-"
        return format_html(
            "<dl>{}</dl>",
            format_html_join("", "<dt>{}</dt><dd>{}</dd>", ((key, value) for key, value in obj.fields.items())),
        )

    def _attachments_html(self, obj: Case, message: Message) -> SafeString:
        links = (
            (
                reverse("admin:tickets_case_attachment", kwargs={"case_id": obj.pk, "attachment_id": a.pk}),
                a.original_name,
                filesizeformat(a.size),
            )
            for a in message.attachments.all()
        )
        items = format_html_join("", '<li><a href="{}">{}</a> ({})</li>', links)
        return format_html("<ul>{}</ul>", items) if items else SafeString("")

    @admin.display(description=_("messages"))
    def thread(self, obj: Case) -> SafeString:
        messages = obj.messages.select_related("author").prefetch_related("attachments").order_by("sent_at", "id")
        parts = []
        for message in messages:
            who = (
                _("Office: %(name)s") % {"name": message.author or "-"}
                if message.sender == Sender.STAFF
                else _("Customer: %(name)s")
                % {"name": message.author or obj.reporter_email or obj.reporter_phone or "-"}
            )
            parts.append(
                format_html(
                    '<div class="module"><h3>{} · {}</h3><p>{}</p>{}</div>',
                    who,
                    timezone.localtime(message.sent_at).strftime("%Y-%m-%d %H:%M"),
                    linebreaksbr(message.body, autoescape=True),
                    self._attachments_html(obj, message),
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts))

    @admin.display(description=_("internal notes"))
    def internal_notes(self, obj: Case) -> SafeString | str:
        notes = CaseNote.objects.filter(case=obj).select_related("author").order_by("created_at", "id")
        rows = [
            (
                note.author or "-",
                timezone.localtime(note.created_at).strftime("%Y-%m-%d %H:%M"),
                linebreaksbr(note.body, autoescape=True),
            )
            for note in notes
        ]
        if not rows:
            return "-"
        return format_html_join("", '<div class="module"><h3>{} · {}</h3><p>{}</p></div>', rows)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        if request.method == "GET" and object_id.isdigit():
            case = Case.objects.filter(pk=int(object_id)).first()
            if case is not None and self.has_view_or_change_permission(request, case):
                # Staff opened the case: what the customer wrote counts as read.
                services.case_mark_read(now=timezone.now(), case=case, reader=Sender.STAFF)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Case, form: CaseAdminForm, change: bool) -> None:
        services.case_staff_update(
            now=timezone.now(),
            case=obj,
            actor=request.user,
            status=form.cleaned_data["status"],
            assigned_to=form.cleaned_data["assigned_to"],
            reply=form.cleaned_data.get("reply", ""),
            note=form.cleaned_data.get("internal_note", ""),
        )
        obj.refresh_from_db()

    def get_urls(self):
        return [
            path(
                "<int:case_id>/attachment/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="tickets_case_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        attachment = Attachment.objects.filter(pk=attachment_id, message__case_id=case_id).first()
        if attachment is None:
            raise Http404
        return attachment_response(attachment)
