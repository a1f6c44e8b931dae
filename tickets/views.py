"""Lista spraw: the customer's cases, their threads, new cases, structured requests and attachment downloads."""

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import http
from accounts.permissions import request_scope
from accounts.views import RECAPTCHA_CSP
from core.methods import require_form, require_POST, require_safe
from core.models import SecurityEventKind
from core.security import security_event_record
from tickets import forms, selectors, services
from tickets.downloads import attachment_response
from tickets.models import CaseType, Sender

CASES_PER_PAGE = 20
MESSAGES_PER_PAGE = 20


def _upload_refused(request: HttpRequest, form, problem: str = "") -> None:
    """A refused attachment (not what its name says, damaged, a virus, the scanner down): into the security log."""
    problems = [problem] if problem else [str(error) for error in form.errors.get("attachments", [])]
    if problems:
        security_event_record(
            now=timezone.now(),
            kind=SecurityEventKind.UPLOAD_REFUSED,
            ip_address=http.client_ip(request),
            identifier=request.user.get_username(),
            details={"view": request.resolver_match.view_name if request.resolver_match else "", "why": problems},
        )


@login_required
@require_safe
def case_list(request: HttpRequest) -> HttpResponse:
    form = forms.CaseSearchForm(request.GET or None)
    search = form.search() if form.is_bound else selectors.CaseSearch()
    page = Paginator(selectors.case_list(scope=request_scope(request), search=search), CASES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    page_query = query.urlencode()
    query.pop("sort", None)
    context = {
        "form": form,
        "page": page,
        "sort": search.sort,
        "filter_query": query.urlencode(),
        "page_query": page_query,
        "is_filtered": form.is_bound and form.is_filtered,
        "sort_columns": [
            ("number", _("No.")),
            ("status", _("Status")),
            ("sent", _("Date sent")),
            ("type", _("Case type")),
            ("subject", _("Subject")),
            ("unread", _("Unread")),
        ],
    }
    return render(request, "tickets/case_list.html", context)


@login_required
@require_form
def case_create(request: HttpRequest) -> HttpResponse:
    form = forms.CaseForm(request.POST or None, request.FILES or None, scope=request_scope(request))
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_open(
                now=timezone.now(),
                customer=data["customer"],
                delivery_point=data.get("delivery_point"),
                opened_by=request.user,
                case_type=data["case_type"],
                subject=data["subject"],
                description=data["description"],
                fields={},
                attachments=data.get("attachments") or [],
            )
        except (services.CaseRejected, services.AttachmentRejected) as exc:
            form.add_error(None, str(exc))
            if isinstance(exc, services.AttachmentRejected):
                _upload_refused(request, form, str(exc))
        else:
            messages.success(request, _("Your case no. %(number)s has been sent.") % {"number": case.pk})
            return redirect("tickets:case-detail", case_id=case.pk)
    elif form.is_bound:
        _upload_refused(request, form)
    return render(request, "tickets/case_form.html", {"form": form})


@login_required
@require_safe
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.access_case(request_scope(request), case_id)
    now = timezone.now()
    # Opening the thread reads the office's replies: the unread count drops to zero.
    unread_ids = {message.pk for message in case.thread if message.is_from_staff and message.read_at is None}
    if unread_ids:
        services.case_mark_read(now=now, case=case, reader=Sender.CUSTOMER)
    context = {
        "case": case,
        "thread": case.thread,
        "unread_ids": unread_ids,
        "case_type_label": CaseType(case.case_type).label,
        "reply_form": forms.ReplyForm() if not case.is_closed else None,
        "can_reopen": services.can_reopen(case=case, now=now),
    }
    return render(request, "tickets/case_detail.html", context)


@login_required
@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.access_case(request_scope(request), case_id)
    form = forms.ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.case_reply(
                now=timezone.now(),
                case=case,
                author=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data.get("attachments") or [],
            )
        except (services.CaseRejected, services.CaseClosed, services.AttachmentRejected) as exc:
            form.add_error(None, str(exc))
            if isinstance(exc, services.AttachmentRejected):
                _upload_refused(request, form, str(exc))
        else:
            messages.success(request, _("Your message has been sent."))
            return redirect("tickets:case-detail", case_id=case.pk)
    else:
        _upload_refused(request, form)
    context = {
        "case": case,
        "thread": case.thread,
        "unread_ids": set(),
        "case_type_label": CaseType(case.case_type).label,
        "reply_form": form,
        "can_reopen": services.can_reopen(case=case, now=timezone.now()),
    }
    return render(request, "tickets/case_detail.html", context, status=400)


@login_required
@require_POST
def case_reopen(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.access_case(request_scope(request), case_id)
    try:
        services.case_reopen(now=timezone.now(), case=case, actor=request.user)
    except services.CaseNotReopenable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The case has been reopened."))
    return redirect("tickets:case-detail", case_id=case.pk)


@login_required
@require_safe
def message_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.sent_messages(scope=request_scope(request)), MESSAGES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "tickets/message_list.html", {"page": page})


@login_required
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    requests = [(slug, form_class.title, form_class.intro) for slug, form_class in forms.REQUEST_FORMS.items()]
    return render(request, "tickets/request_list.html", {"requests": requests})


@login_required
@require_form
def request_create(request: HttpRequest, kind: str) -> HttpResponse:
    form_class = forms.REQUEST_FORMS.get(kind)
    if form_class is None:
        raise Http404
    form = form_class(request.POST or None, request.FILES or None, scope=request_scope(request))
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_open(
                now=timezone.now(),
                customer=data["customer"],
                delivery_point=data.get("delivery_point"),
                opened_by=request.user,
                case_type=form.case_type,
                subject=form.subject(),
                description=form.description(),
                fields=form.structured_fields(),
                attachments=data.get("attachments") or [],
            )
        except (services.CaseRejected, services.AttachmentRejected) as exc:
            form.add_error(None, str(exc))
            if isinstance(exc, services.AttachmentRejected):
                _upload_refused(request, form, str(exc))
        else:
            messages.success(request, _("Your request has been sent as case no. %(number)s.") % {"number": case.pk})
            return redirect("tickets:case-detail", case_id=case.pk)
    elif form.is_bound:
        _upload_refused(request, form)
    return render(request, "tickets/request_form.html", {"form": form, "kind": kind})


@login_required
@require_safe
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    return attachment_response(selectors.access_attachment(request_scope(request), attachment_id))


# --- reports without an account (/report/) ------------------------------------------------------------------------

REPORT = "ibok_report"  # ACCOUNT_RATE_LIMITS: new reports per address
REPORT_REPLY = "ibok_report_reply"  # replies through a tracking link, per address and per report


@require_form
def report_create(request: HttpRequest) -> HttpResponse:
    """A failure or water-quality report by anyone: CAPTCHA and a rate limit; the reporter lands on the private
    tracking page, whose link also goes to their e-mail (or phone)."""
    form = forms.ReportForm(request.POST or None, request.FILES or None, remote_ip=http.client_ip(request))
    status = 200
    if request.method == "POST" and not ratelimit.consume(request, action=REPORT):
        form.is_valid()
        form.add_error(None, _("Too many reports from this address. Please wait an hour or call us."))
        status = 429
    elif form.is_valid():
        data = form.cleaned_data
        try:
            case, token = services.report_open(
                now=timezone.now(),
                case_type=data["case_type"],
                location=data["location"],
                description=data["description"],
                email=data["email"] or "",
                phone=str(data["phone"] or ""),
                photo=data["photo"],
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
        except (services.ReportRejected, services.AttachmentRejected) as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            messages.success(
                request,
                _("Report no. %(number)s registered. Keep this page's address: it is your private link to the report.")
                % {"number": case.pk},
            )
            return redirect("reports:detail", token=token)
    else:
        status = 400 if request.method == "POST" else 200
    response = render(request, "tickets/report_form.html", {"form": form}, status=status)
    if settings.IBOK_RECAPTCHA_ENABLED:
        response._csp_update = RECAPTCHA_CSP  # the widget's script and frame, on this page only
    return response


@require_form
def report_detail(request: HttpRequest, token: str) -> HttpResponse:
    """The private tracking page of a report: its thread and a reply form (rate-limited); 404 for a wrong token."""
    case = selectors.report_by_token(token=token)
    form = forms.ReportReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not ratelimit.consume(request, action=REPORT_REPLY, key=str(case.pk)):
            form.is_valid()
            form.add_error(None, _("Too many messages. Please wait a while or call us."))
            status = 429
        elif form.is_valid():
            try:
                services.report_reply(now=timezone.now(), case=case, body=form.cleaned_data["body"])
            except (services.CaseRejected, services.CaseClosed) as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, _("Your message has been sent."))
                return redirect("reports:detail", token=token)
        else:
            status = 400
    elif any(message.is_from_staff and message.read_at is None for message in case.thread):
        services.case_mark_read(now=timezone.now(), case=case, reader=Sender.CUSTOMER)
    context = {
        "case": case,
        "thread": case.thread,
        "case_type_label": CaseType(case.case_type).label,
        "reply_form": form if not case.is_closed else None,
        "token": token,  # the thread's files are behind it too
    }
    response = render(request, "tickets/report_detail.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"  # the address is the key to the report
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def report_attachment_download(request: HttpRequest, token: str, attachment_id: int) -> FileResponse:
    """A file of the report's thread, behind the same token as its tracking page."""
    response = attachment_response(selectors.report_attachment(token=token, attachment_id=attachment_id))
    response["Referrer-Policy"] = "no-referrer"
    return response
