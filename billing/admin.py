from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from getpaid.admin import PaymentAdmin as GetpaidPaymentAdmin
from getpaid.models import Payment as GetpaidPayment
from getpaid_core.enums import PaymentStatus as GetpaidStatus
from import_export.admin import ExportMixin

from accounts.models import Customer
from accounts.search import CustomerSearchMixin
from billing import services
from billing.models import (
    BrokerEvent,
    CalendarFeed,
    CustomerBalance,
    Invoice,
    InvoiceLine,
    OnlinePayment,
    OnlinePaymentItem,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    PaymentPlanRequest,
    PaymentPlanRequestItem,
    RefundRequest,
    RefundStatus,
    SyncRun,
)
from core.admin import BillingMirrorMixin, IndexedValuesFilter, LargeListMixin
from core.jobs import enqueue
from core.services import audit_record


class InvoiceLineInline(BillingMirrorMixin, admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ["position", "description", "quantity", "unit", "unit_price_net", "net", "vat_rate", "vat", "gross"]


class AllocationInline(BillingMirrorMixin, admin.TabularInline):
    model = PaymentAllocation
    extra = 0
    autocomplete_fields = ["invoice"]


@admin.register(Invoice)
class InvoiceAdmin(LargeListMixin, BillingMirrorMixin, CustomerSearchMixin, ExportMixin, admin.ModelAdmin):
    """Read-only: invoices come from the billing system. The search finds the customers first (accounts.search),
    then the invoices by their exact number or KSeF number or by those customers' ids."""

    list_display = ["number", "customer", "kind", "issue_date", "due_date", "gross", "outstanding", "ksef_number"]
    list_filter = ["kind", "issue_date", "due_date"]
    search_fields = ["=number", "=ksef_number", "=customer__number", "customer__name"]
    search_exact_fields = ("number", "ksef_number")
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "delivery_point", "corrected_invoice"]
    ordering = ["-issue_date", "-id"]
    inlines = [InvoiceLineInline]


@admin.register(Payment)
class PaymentAdmin(LargeListMixin, BillingMirrorMixin, CustomerSearchMixin, ExportMixin, admin.ModelAdmin):
    list_display = ["external_id", "customer", "paid_date", "amount", "channel", "title", "portal_reference"]
    list_filter = ["channel", "paid_date"]
    search_fields = ["=external_id", "=portal_reference", "=customer__number", "customer__name"]
    search_exact_fields = ("external_id", "portal_reference")
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    ordering = ["-paid_date", "-id"]
    inlines = [AllocationInline]


@admin.register(CustomerBalance)
class CustomerBalanceAdmin(LargeListMixin, BillingMirrorMixin, CustomerSearchMixin, admin.ModelAdmin):
    list_display = ["customer", "balance", "overdue", "as_of"]
    search_fields = ["=customer__number", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(SyncRun)
class SyncRunAdmin(LargeListMixin, admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "source", "status", "created", "updated", "rejected"]
    list_filter = ["status"]
    ordering = ["-started_at", "-id"]
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

    def get_urls(self):
        extra = [path("sync/", self.admin_site.admin_view(self.sync_view), name="billing_syncrun_sync")]
        return extra + super().get_urls()

    def sync_view(self, request: HttpRequest) -> HttpResponse:
        """Queue the sync now: everything that changed, or one customer's data."""
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        number = request.POST.get("customer_number", "").strip()
        now = timezone.now()
        if number:
            customer = Customer.objects.filter(number=number).first()
            if customer is None:
                messages.error(request, _("There is no customer with the number %(number)s.") % {"number": number})
                return redirect("admin:billing_syncrun_changelist")
            with transaction.atomic():
                enqueue("billing.customer_sync", customer_id=customer.pk)
                audit_record(now=now, action="billing.customer_sync_requested", actor=request.user, target=customer)
            messages.success(request, _("The sync of customer %(number)s is queued.") % {"number": number})
        else:
            with transaction.atomic():
                enqueue("billing.billing_sync")
                audit_record(now=now, action="billing.sync_requested", actor=request.user)
            messages.success(request, _("The sync is queued."))
        return redirect("admin:billing_syncrun_changelist")


class OnlinePaymentItemInline(admin.TabularInline):
    model = OnlinePaymentItem
    extra = 0
    fields = ["invoice", "amount"]
    readonly_fields = fields
    can_delete = False


class BrokerEventInline(admin.TabularInline):
    model = BrokerEvent
    extra = 0
    fields = ["received_at", "outcome", "detail", "remote_addr", "payload"]
    readonly_fields = fields
    can_delete = False
    ordering = ["received_at", "id"]


class BrokerPaymentInline(admin.TabularInline):
    model = GetpaidPayment
    fk_name = "order"
    extra = 0
    fields = [
        "id",
        "backend",
        "status",
        "amount_required",
        "amount_paid",
        "external_id",
        "created_on",
        "last_payment_on",
    ]
    readonly_fields = fields
    can_delete = False
    ordering = ["created_on"]


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(LargeListMixin, CustomerSearchMixin, admin.ModelAdmin):
    """Online payments with the broker's side (django-getpaid) and every notification the broker sent."""

    list_display = ["reference", "customer", "created_at", "total", "paid_at", "broker_reference"]
    list_filter = [("paid_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["=reference", "=broker_reference", "=customer__number", "customer__name"]
    search_exact_fields = ("reference", "broker_reference")
    list_select_related = ["customer"]
    readonly_fields = [f.name for f in OnlinePayment._meta.fields]
    inlines = [OnlinePaymentItemInline, BrokerPaymentInline, BrokerEventInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(BrokerEvent)
class BrokerEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "outcome", "online_payment", "detail", "remote_addr"]
    list_filter = ["outcome"]
    search_fields = ["=online_payment__reference", "detail"]
    list_select_related = ["online_payment"]
    readonly_fields = [f.name for f in BrokerEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["=user__username", "user__email"]
    fields = ["user", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(RefundRequest)
class RefundRequestAdmin(CustomerSearchMixin, admin.ModelAdmin):
    """The queue of overpayment refund requests: open ones first, oldest first. Staff decide with the actions
    below or on the request's page (status and a note for the customer); either way the customer gets an e-mail."""

    list_display = ["reference", "customer", "requested_at", "method", "amount", "status", "decided_at"]
    list_filter = ["status", "method"]
    search_fields = ["=reference", "=customer__number", "customer__name"]
    search_exact_fields = ("reference",)
    list_select_related = ["customer"]
    ordering = ["-status", "requested_at", "id"]  # REQUESTED sorts last alphabetically: open ones first
    actions = ["mark_paid_out", "mark_offset", "mark_refused"]
    fields = [
        "reference", "customer", "user", "method", "bank_account", "amount", "requested_at", "status",
        "decision_note", "decided_at", "decided_by",
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_open:
            return [name for name in self.fields if name not in ("status", "decision_note")]
        return self.fields

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        """A decision goes through the service (the e-mail, the audit log); nothing else on the request changes."""
        if "status" in form.changed_data and obj.status != RefundStatus.REQUESTED:
            services.refund_request_decide(
                refund=obj, status=obj.status, actor=request.user, note=obj.decision_note, now=timezone.now()
            )
        elif "decision_note" in form.changed_data:
            RefundRequest.objects.filter(pk=obj.pk, status=RefundStatus.REQUESTED).update(
                decision_note=obj.decision_note
            )

    def _decide(self, request: HttpRequest, queryset, status: str) -> None:
        now = timezone.now()
        decided = sum(
            services.refund_request_decide(
                refund=refund, status=status, actor=request.user, note=refund.decision_note, now=now
            )
            for refund in queryset.filter(status=RefundStatus.REQUESTED).order_by("id")
        )
        skipped = queryset.count() - decided
        if decided:
            messages.success(request, _("Decided: %(count)s.") % {"count": decided})
        if skipped:
            messages.warning(request, _("Already decided, left as they were: %(count)s.") % {"count": skipped})

    @admin.action(description=_("Mark the selected requests as paid out"), permissions=["change"])
    def mark_paid_out(self, request: HttpRequest, queryset) -> None:
        self._decide(request, queryset, RefundStatus.PAID_OUT)

    @admin.action(description=_("Mark the selected requests as offset against invoices"), permissions=["change"])
    def mark_offset(self, request: HttpRequest, queryset) -> None:
        self._decide(request, queryset, RefundStatus.OFFSET)

    @admin.action(description=_("Refuse the selected requests"), permissions=["change"])
    def mark_refused(self, request: HttpRequest, queryset) -> None:
        self._decide(request, queryset, RefundStatus.REFUSED)


# django-getpaid's own admin, with its words in the portal's catalogs (the library ships none) and no date
# drill-down; its app is named for what it holds.
apps.get_app_config("getpaid").verbose_name = _("Payment broker")
admin.site.unregister(GetpaidPayment)


@admin.register(GetpaidPayment)
class BrokerPaymentAdmin(LargeListMixin, GetpaidPaymentAdmin):
    list_filter = ["status", ("backend", IndexedValuesFilter), "created_on"]
    actions = ["charge_pre_authorised", "release_locks", "refund"]

    @admin.action(description=_("Charge the selected pre-authorised payments"))
    def charge_pre_authorised(self, request: HttpRequest, queryset) -> None:
        self._run(
            request, queryset, GetpaidStatus.PRE_AUTH, "charge", _("Charged: {count}."), _("Not charged: {count}.")
        )

    @admin.action(description=_("Release the locks on the selected payments"))
    def release_locks(self, request: HttpRequest, queryset) -> None:
        self._run(
            request, queryset, GetpaidStatus.PRE_AUTH, "release_lock", _("Locks released: {count}."),
            _("Locks not released: {count}."),
        )  # fmt: skip

    @admin.action(description=_("Start refunds of the selected paid payments"))
    def refund(self, request: HttpRequest, queryset) -> None:
        self._run(
            request, queryset, GetpaidStatus.PAID, "start_refund", _("Refunds started: {count}."),
            _("Refunds not started: {count}."),
        )  # fmt: skip

    def _run(self, request, queryset, status, method_name, success, failure) -> None:
        self._apply_payment_action(
            request, queryset, status=status, method_name=method_name, success_message=str(success),
            failure_message=str(failure),
        )  # fmt: skip


class PaymentPlanRequestItemInline(admin.TabularInline):
    model = PaymentPlanRequestItem
    extra = 0
    fields = ["invoice", "amount"]
    readonly_fields = fields
    can_delete = False


class PaymentPlanDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("accept", _("Accept as asked")),
            ("change", _("Accept with another number of instalments")),
            ("refuse", _("Refuse")),
        ],  # fmt: skip
        widget=forms.RadioSelect,
    )
    instalments = forms.IntegerField(label=_("Instalments granted"), required=False, min_value=1)
    note = forms.CharField(label=_("Note to the customer"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "change" and not cleaned.get("instalments"):
            self.add_error("instalments", _("Give the number of instalments granted."))
        return cleaned


@admin.register(PaymentPlanRequest)
class PaymentPlanRequestAdmin(admin.ModelAdmin):
    """The queue of payment plan requests: staff accept, change or refuse (billing.services.payment_plan_decide)."""

    list_display = ["reference", "created_at", "customer", "total", "instalments", "status", "decide_link"]
    list_filter = ["status"]
    search_fields = ["reference", "customer__number"]
    list_select_related = ["customer"]
    ordering = ["status", "created_at", "id"]
    readonly_fields = [
        "reference",
        "customer",
        "user",
        "created_at",
        "total",
        "instalments",
        "first_due_date",
        "status",
        "decided_at",
        "decided_by",
        "decided_instalments",
        "decision_note",
        "decide_link",
    ]
    inlines = [PaymentPlanRequestItemInline]
    actions = ["accept", "refuse"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:request_id>/decide/", wrap(self.decide_view), name="billing_paymentplanrequest_decide"),
            *super().get_urls(),
        ]

    @admin.display(description=_("decision"))
    def decide_link(self, obj: PaymentPlanRequest) -> str:
        if not obj.is_open:
            return obj.get_status_display()
        url = reverse("admin:billing_paymentplanrequest_decide", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Accept, change or refuse"))

    def _decide(self, request: HttpRequest, plan_request: PaymentPlanRequest, **decision) -> bool:
        try:
            services.payment_plan_decide(
                now=timezone.now(),
                request=plan_request,
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
                **decision,
            )
        except services.PaymentPlanRejected as exc:
            messages.error(request, f"{plan_request.reference}: {exc}")
            return False
        return True

    @admin.action(description=_("Accept the selected requests as asked"))
    def accept(self, request: HttpRequest, queryset) -> None:
        done = sum(self._decide(request, item, accept=True) for item in queryset.order_by("id"))
        messages.success(request, _("Requests accepted: %(count)d.") % {"count": done})

    @admin.action(description=_("Refuse the selected requests"))
    def refuse(self, request: HttpRequest, queryset) -> None:
        done = sum(self._decide(request, item, accept=False) for item in queryset.order_by("id"))
        messages.success(request, _("Requests refused: %(count)d.") % {"count": done})

    def decide_view(self, request: HttpRequest, request_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        plan_request = PaymentPlanRequest.objects.select_related("customer").filter(pk=request_id).first()
        if plan_request is None:
            raise Http404
        form = PaymentPlanDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            done = self._decide(
                request,
                plan_request,
                accept=data["decision"] != "refuse",
                instalments=data["instalments"] if data["decision"] == "change" else None,
                note=data["note"],
            )
            if done:
                messages.success(request, _("The decision is sent to the billing system and the customer."))
                return redirect("admin:billing_paymentplanrequest_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "plan_request": plan_request,
            "items": list(plan_request.items.select_related("invoice").order_by("id")),
            "form": form,
            "title": _("Decide on %(reference)s") % {"reference": plan_request.reference},
        }
        return render(request, "admin/billing/paymentplanrequest/decide.html", context)


@admin.register(PaymentPlan)
class PaymentPlanAdmin(BillingMirrorMixin, admin.ModelAdmin):
    list_display = ["external_id", "customer", "status", "total", "portal_reference"]
    list_filter = ["status"]
    search_fields = ["external_id", "portal_reference", "customer__number"]
    list_select_related = ["customer"]
