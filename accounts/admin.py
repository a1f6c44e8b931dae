from allauth.account.decorators import secure_admin_login
from allauth.account.forms import ResetPasswordForm
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin

from accounts import forms, selectors, services, throttling
from accounts.models import (
    Consent,
    ContactChange,
    Contract,
    Customer,
    CustomerAccess,
    DeletionRequest,
    DeletionRequestStatus,
    DeliveryPoint,
    LoginEvent,
    ManagerRequest,
    Registration,
    TermsVersion,
    User,
)
from accounts.search import CustomerListSearchMixin, CustomerSearchMixin
from core.admin import BillingMirrorMixin, IndexedValuesFilter, LargeListMixin

# The admin's login is allauth's: the same throttling, and the second factor for staff who set one up
# (accounts.middleware.StaffMfaRequiredMiddleware makes every staff member set one up before the admin opens).
admin.site.login = secure_admin_login(admin.site.login)


class CustomerAccessInline(admin.TabularInline):
    """Read-only here: grants and revocations go through the audited access admin and the managers' requests."""

    model = CustomerAccess
    extra = 0
    fields = ["customer", "role", "all_points", "granted_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    fields = ["kind", "given", "terms_version", "recorded_at", "ip_address"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(LargeListMixin, BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    search_fields = ["username", "email", "first_name", "last_name", "=customer_accesses__customer__number"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Portal"), {"fields": ["phone", "language", "login_history"]}),
    ]
    readonly_fields = ["login_history", "last_login", "date_joined"]
    # Plain multiple selects: Django's two-box widget puts aria-label on a span (axe: aria-prohibited-attr).
    filter_horizontal = ()
    inlines = [CustomerAccessInline, ConsentInline]
    actions = ["unlock", "send_password_reset"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # an account is closed through a deletion request, which keeps the legal records

    @admin.display(description=_("login history"))
    def login_history(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:accounts_loginevent_changelist") + f"?user__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Show sign-ins and failed attempts"))

    @admin.action(description=_("Unlock: clear failed sign-in and registration limits"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            logins = throttling.user_unlock(request, user=user)
            services.unlock_record(user=user, actor=request.user, now=timezone.now(), details={"logins": logins})
        self.message_user(
            request,
            ngettext("%(count)d account unlocked.", "%(count)d accounts unlocked.", len(queryset))
            % {"count": len(queryset)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Send a link to set a new password"))
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        sent = 0
        for user in queryset.exclude(email=""):
            form = ResetPasswordForm(data={"email": user.email})
            if form.is_valid():
                form.save(request)
                sent += 1
        self.message_user(
            request,
            ngettext("%(count)d link sent.", "%(count)d links sent.", sent) % {"count": sent},
            messages.SUCCESS,
        )


class ContractInline(BillingMirrorMixin, admin.TabularInline):
    model = Contract
    extra = 0
    fields = ["number", "kind", "signed_date", "valid_from", "valid_until"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(LargeListMixin, BillingMirrorMixin, CustomerListSearchMixin, ExportMixin, admin.ModelAdmin):
    """Read-only: customers come from the billing system. Searched through accounts.search (indexed)."""

    list_display = ["number", "name", "kind", "city", "address_line", "email", "source_updated_at"]
    list_filter = ["kind", ("city", IndexedValuesFilter)]
    search_fields = ["=number", "=nip", "=external_id", "name", "street", "email"]
    readonly_fields = ["external_id", "source_updated_at"]
    inlines = [ContractInline]

    @admin.display(description=_("address"))
    def address_line(self, obj: Customer) -> str:
        return obj.address_line


@admin.register(Contract)
class ContractAdmin(LargeListMixin, BillingMirrorMixin, CustomerSearchMixin, admin.ModelAdmin):
    list_display = ["number", "customer", "kind", "signed_date", "valid_from", "valid_until"]
    list_filter = ["kind", ("valid_until", admin.EmptyFieldListFilter), "signed_date"]
    search_fields = ["=number", "=customer__number", "customer__name"]
    search_exact_fields = ("number",)
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(DeliveryPoint)
class DeliveryPointAdmin(LargeListMixin, BillingMirrorMixin, CustomerSearchMixin, admin.ModelAdmin):
    list_display = ["code", "customer", "service", "tariff_group", "street", "building", "apartment", "city"]
    list_filter = ["service", ("city", IndexedValuesFilter)]
    search_fields = ["=code", "=customer__number", "customer__name", "street"]
    search_exact_fields = ("code",)
    search_text_fields = ("street",)
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "contract"]


@admin.register(CustomerAccess)
class CustomerAccessAdmin(admin.ModelAdmin):
    """Every grant, change and revocation made here is audited (accounts.services.access_edit_record)."""

    list_display = ["user", "customer", "role", "all_points", "granted_at"]
    list_filter = ["role", "all_points"]
    search_fields = ["user__username", "user__email", "=customer__number", "customer__name"]
    list_select_related = ["user", "customer"]
    autocomplete_fields = ["user", "customer", "points"]
    exclude = ["manager_notified_at"]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.access_edit_record(
            access=form.instance, actor=request.user, now=timezone.now(), action="changed" if change else "granted"
        )

    def delete_model(self, request, obj) -> None:
        services.access_edit_record(access=obj, actor=request.user, now=timezone.now(), action="revoked")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for access in queryset.select_related("user", "customer"):
            services.access_edit_record(access=access, actor=request.user, now=timezone.now(), action="revoked")
        super().delete_queryset(request, queryset)


@admin.register(ManagerRequest)
class ManagerRequestAdmin(admin.ModelAdmin):
    """Managers' requests (seed 003): staff grant access per customer (all or chosen points), or reject."""

    list_display = ["created_at", "company_name", "nip", "contact_name", "email", "status", "grant_link"]
    list_filter = ["status"]
    search_fields = ["company_name", "=nip", "email", "contact_name", "properties"]
    readonly_fields = [
        "created_at",
        "user",
        "company_name",
        "nip",
        "contact_name",
        "email",
        "phone",
        "properties",
        "document_link",
        "language",
        "ip_address",
        "status",
        "handled_at",
        "handled_by",
        "grant_link",
    ]
    exclude = ["document", "granted_email_sent_at"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["reject"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:request_id>/grant/", wrap(self.grant_view), name="accounts_managerrequest_grant"),
            path(
                "<int:request_id>/revoke/<int:access_id>/",
                wrap(self.revoke_view),
                name="accounts_managerrequest_revoke",
            ),
            path("<int:request_id>/document/", wrap(self.document_view), name="accounts_managerrequest_document"),
            *super().get_urls(),
        ]

    @admin.display(description=_("access"))
    def grant_link(self, obj: ManagerRequest) -> str:
        url = reverse("admin:accounts_managerrequest_grant", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Grant or revoke access"))

    @admin.display(description=_("authorisation document"))
    def document_link(self, obj: ManagerRequest) -> str:
        if not obj.document:
            return "-"
        url = reverse("admin:accounts_managerrequest_document", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open the PDF"))

    def _request_or_404(self, request: HttpRequest, request_id: int) -> ManagerRequest:
        if not self.has_change_permission(request):
            raise PermissionDenied
        manager_request = self.get_object(request, str(request_id))
        if manager_request is None:
            raise Http404
        return manager_request

    def grant_view(self, request: HttpRequest, request_id: int) -> HttpResponse:
        manager_request = self._request_or_404(request, request_id)
        form = forms.ManagerGrantForm(
            request.POST or None,
            customers_by_numbers=selectors.customers_by_numbers,
            points_by_codes=selectors.points_by_codes,
        )
        if request.method == "POST" and form.is_valid():
            now = timezone.now()
            manager = services.manager_account_for(request=manager_request, now=now)
            granted = 0
            for customer, all_points, points in form.cleaned_data["grants"]:
                try:
                    services.manager_access_grant(
                        manager=manager,
                        customer=customer,
                        all_points=all_points,
                        points=points,
                        actor=request.user,
                        now=now,
                        request=manager_request,
                    )
                except services.ManagerGrantRefused as exc:
                    self.message_user(request, f"{customer.number}: {exc}", messages.ERROR)
                else:
                    granted += 1
            if granted:
                self.message_user(
                    request,
                    ngettext("Access granted to %(count)d customer.", "Access granted to %(count)d customers.", granted)
                    % {"count": granted},
                    messages.SUCCESS,
                )
            return redirect("admin:accounts_managerrequest_grant", request_id=manager_request.pk)
        manager = manager_request.user
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Access of %(company)s") % {"company": manager_request.company_name},
            "manager_request": manager_request,
            "form": form,
            "accesses": list(selectors.manager_accesses(user=manager)) if manager is not None else [],
        }
        return TemplateResponse(request, "admin/accounts/managerrequest/grant.html", context)

    def revoke_view(self, request: HttpRequest, request_id: int, access_id: int) -> HttpResponse:
        manager_request = self._request_or_404(request, request_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        access = get_object_or_404(CustomerAccess, pk=access_id, user_id=manager_request.user_id)
        try:
            services.manager_access_revoke(access=access, actor=request.user, now=timezone.now())
        except services.ManagerGrantRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, _("Access revoked."), messages.SUCCESS)
        return redirect("admin:accounts_managerrequest_grant", request_id=manager_request.pk)

    def document_view(self, request: HttpRequest, request_id: int) -> FileResponse:
        manager_request = self._request_or_404(request, request_id)
        if not manager_request.document:
            raise Http404
        return FileResponse(
            manager_request.document.open("rb"),
            as_attachment=False,
            filename=f"upowaznienie-{manager_request.nip}.pdf",
            content_type="application/pdf",
        )

    @admin.action(description=_("Reject the chosen requests"))
    def reject(self, request: HttpRequest, queryset: QuerySet[ManagerRequest]) -> None:
        closed = sum(
            services.manager_request_reject(request=r, actor=request.user, now=timezone.now()) for r in queryset
        )
        self.message_user(
            request, ngettext("%(count)d request rejected.", "%(count)d requests rejected.", closed) % {"count": closed}
        )


@admin.register(LoginEvent)
class LoginEventAdmin(LargeListMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "identifier", "user", "succeeded", "ip_address", "user_agent"]
    list_filter = ["succeeded", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = [
        "identifier",
        "=ip_address",
        "user__username",
        "user__email",
        "=user__customer_accesses__customer__number",
    ]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "customer_number",
        "email",
        "status",
        "einvoice_requested",
        "ip_address",
        "completed_at",
    ]
    list_filter = ["status", "einvoice_requested"]
    search_fields = ["=customer_number", "email", "=ip_address"]
    readonly_fields = [f.name for f in Registration._meta.fields]
    actions = ["resend_activation"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Resend the activation (verification) e-mail"))
    def resend_activation(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        base_url = request.build_absolute_uri("/")
        sent = sum(
            services.registration_resend(registration=r, actor=request.user, now=timezone.now(), base_url=base_url)
            for r in queryset
        )
        self.message_user(
            request,
            ngettext("%(count)d e-mail queued.", "%(count)d e-mails queued.", sent) % {"count": sent},
            messages.SUCCESS if sent else messages.WARNING,
        )


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "published_at"]
    save_as = True  # a change is a new version: "Save as new" copies the text in force to edit
    search_fields = ["version", "title"]
    date_hierarchy = "published_at"


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["recorded_at", "user", "kind", "given", "terms_version", "ip_address"]
    list_filter = ["kind", "given", "terms_version"]
    search_fields = ["user__username", "user__email", "=user__customer_accesses__customer__number"]
    list_select_related = ["user", "terms_version"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a legal record: a withdrawal is a new consent row, never a deletion


@admin.register(ContactChange)
class ContactChangeAdmin(admin.ModelAdmin):
    list_display = [
        "requested_at",
        "customer",
        "user",
        "street",
        "building",
        "apartment",
        "postal_code",
        "city",
        "phone",
    ]
    search_fields = ["=customer__number", "user__email", "street", "city"]
    list_select_related = ["customer", "user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeletionRequest)
class DeletionRequestAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "username", "user", "status", "handled_at", "handled_by"]
    list_filter = ["status"]
    search_fields = ["username", "user__email", "=user__customer_accesses__customer__number"]
    list_select_related = ["user", "handled_by"]
    readonly_fields = [f.name for f in DeletionRequest._meta.fields]
    actions = ["mark_done", "mark_rejected"]

    def has_add_permission(self, request) -> bool:
        return False

    def _close(self, request: HttpRequest, queryset: QuerySet[DeletionRequest], status: str) -> None:
        closed = sum(
            services.deletion_request_close(request=r, status=status, actor=request.user, now=timezone.now())
            for r in queryset
        )
        self.message_user(
            request, ngettext("%(count)d request closed.", "%(count)d requests closed.", closed) % {"count": closed}
        )

    @admin.action(description=_("Mark as done (account deleted)"))
    def mark_done(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._close(request, queryset, DeletionRequestStatus.DONE)

    @admin.action(description=_("Reject"))
    def mark_rejected(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._close(request, queryset, DeletionRequestStatus.REJECTED)


# allauth's second factors: its model has no verbose names and its admin lets staff type in secrets. Here staff see
# who has which factor and may remove a lost one (the user then sets a new one up); nothing is added or edited.
# The model's names are set on its options only (what migrations read, Meta's original attributes, is untouched).
apps.get_app_config("mfa").verbose_name = _("Two-factor authentication")
Authenticator._meta.verbose_name = _("second factor")
Authenticator._meta.verbose_name_plural = _("second factors")
admin.site.unregister(Authenticator)


class AuthenticatorTypeFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return Authenticator.Type.choices

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "created", "last_used"]
    list_filter = [AuthenticatorTypeFilter]
    search_fields = ["=user__username", "=user__email"]
    search_help_text = _("A username or e-mail, exactly.")
    list_select_related = ["user"]
    fields = ["account", "kind", "created", "last_used"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    @admin.display(description=_("user"), ordering="user__username")
    def account(self, obj: Authenticator) -> str:
        return str(obj.user)

    @admin.display(description=_("kind"), ordering="type")
    def kind(self, obj: Authenticator) -> str:
        return obj.get_type_display()

    @admin.display(description=_("set up at"), ordering="created_at")
    def created(self, obj: Authenticator):
        return obj.created_at

    @admin.display(description=_("last used at"), ordering="last_used_at")
    def last_used(self, obj: Authenticator):
        return obj.last_used_at

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
