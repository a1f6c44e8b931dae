"""Notification settings and phone verification, the log of what was sent, announcements, Dokumenty."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts import http
from accounts.permissions import request_scope
from core.methods import require_form, require_POST, require_safe
from core.models import SecurityEventKind
from core.security import security_event_record
from notices import forms, inbound, selectors, services

NOTIFICATIONS_PER_PAGE = 25


def _settings_page(request: HttpRequest, *, form: forms.PreferencesForm, code_form: forms.PhoneCodeForm):
    context = {
        "form": form,
        "code_form": code_form,
        "phone": selectors.phone_state(user=request.user, now=timezone.now()),
    }
    return render(request, "notices/settings.html", context)


@login_required
@require_form
def settings_index(request: HttpRequest) -> HttpResponse:
    enabled = selectors.preferences_of(user=request.user)
    form = forms.PreferencesForm(request.POST or None, enabled=enabled)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user=request.user, enabled=form.enabled(), now=timezone.now())
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notices:settings")
    return _settings_page(request, form=form, code_form=forms.PhoneCodeForm())


@login_required
@require_POST
def phone_code_send(request: HttpRequest) -> HttpResponse:
    try:
        services.phone_code_send(user=request.user, now=timezone.now())
    except services.PhoneMissing:
        messages.error(request, _("Your account has no phone number. Add one in the contact data first."))
    except services.PhoneAlreadyVerified:
        messages.info(request, _("Your phone number is already verified."))
    except services.PhoneCodeTooSoon as exc:
        messages.error(request, str(exc))
    except services.PhoneCodeNotSent:
        messages.error(request, _("The SMS could not be sent just now. Please try again in a few minutes."))
    else:
        messages.success(request, _("We sent a code by SMS. Enter it below."))
    return redirect("notices:settings")


@login_required
@require_POST
def phone_verify(request: HttpRequest) -> HttpResponse:
    code_form = forms.PhoneCodeForm(request.POST)
    if code_form.is_valid():
        try:
            services.phone_code_verify(user=request.user, code=code_form.cleaned_data["code"], now=timezone.now())
        except services.PhoneCodeInvalid as exc:
            code_form.add_error("code", str(exc))
        else:
            messages.success(request, _("Your phone number is verified. SMS notifications can go to it now."))
            return redirect("notices:settings")
    form = forms.PreferencesForm(enabled=selectors.preferences_of(user=request.user))
    return _settings_page(request, form=form, code_form=code_form)


@login_required
@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_of(user=request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "notices/notification_list.html", {"page": page})


@require_safe
def announcement_list(request: HttpRequest) -> HttpResponse:
    """Current komunikaty: public, like the login page that shows them too."""
    if request.user.is_authenticated:
        announcements = selectors.announcements_for(
            user=request.user, now=timezone.now(), limit=100, scope=request_scope(request)
        )
    else:
        announcements = list(selectors.current_announcements(now=timezone.now())[:100])
    return render(request, "notices/announcement_list.html", {"announcements": announcements})


@login_required
@require_safe
def document_list(request: HttpRequest) -> HttpResponse:
    page = selectors.documents_page(scope=request_scope(request), now=timezone.now())
    current_terms = page.terms[0] if page.terms else None
    context = {"public": page.public, "own": page.own, "terms": page.terms, "current_terms": current_terms}
    return render(request, "notices/document_list.html", context)


@login_required
@require_safe
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    document = selectors.access_document(request_scope(request), document_id, now=timezone.now())
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=document.original_name, content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt  # the SMS gateway's server calls this; the HMAC signature is its proof, not a cookie
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """The SMS gateway's inbound callback: a signed form POST (MsgId, sms_from, sms_text) of an SMS to our number."""
    signature = request.headers.get(inbound.SIGNATURE_HEADER, "")
    if not inbound.signature_valid(body=request.body, signature=signature):
        security_event_record(
            now=timezone.now(),
            kind=SecurityEventKind.SMS_CALLBACK_REFUSED,
            ip_address=http.client_ip(request),
            details={"why": "bad signature" if signature else "unsigned"},
        )
        return HttpResponseForbidden("invalid signature", content_type="text/plain")
    message_id, sender = request.POST.get("MsgId", "").strip(), request.POST.get("sms_from", "").strip()
    if not message_id or not sender or len(message_id) > 64:
        return HttpResponseBadRequest("MsgId and sms_from are required", content_type="text/plain")
    inbound.inbound_sms_receive(
        gateway_message_id=message_id, sender=sender, text=request.POST.get("sms_text", ""), now=timezone.now()
    )
    return HttpResponse("OK", content_type="text/plain")  # what SMSAPI expects from a callback it may stop repeating
