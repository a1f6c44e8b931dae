"""Reports without an account (failure, water quality): public, no sign-in, through the page's form (CAPTCHA when
it is on, the same rate limit) and tickets.services; the private token is the only key to a report."""

from allauth.core import ratelimit
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from accounts import http
from api import problems
from api.common import LocalDateTime, form_invalid
from tickets import forms as ticket_forms
from tickets import selectors as tickets
from tickets import services as ticket_services
from tickets.models import Case

router = Router(tags=["reports"], auth=None)

REPORT = "ibok_report"  # ACCOUNT_RATE_LIMITS, shared with the page


class ReportMessageOut(Schema):
    sender: str  # CUSTOMER (the reporter) or STAFF (the office)
    body: str
    sent_at: LocalDateTime


class ReportOut(Schema):
    number: int  # the case number
    case_type: str  # FAILURE or WATER_QUALITY
    status: str
    location: str
    opened_at: LocalDateTime
    thread: list[ReportMessageOut]  # the oldest first


class ReportCreatedOut(ReportOut):
    token: str  # the private key to the report (GET /reports/{token}); also sent by e-mail or SMS


def report_out(case: Case, thread) -> dict:
    return {
        "number": case.pk, "case_type": case.case_type, "status": case.status, "location": case.location,
        "opened_at": case.opened_at,
        "thread": [{"sender": m.sender, "body": m.body, "sent_at": m.sent_at} for m in thread],
    }  # fmt: skip


@router.post(
    "/reports",
    response={201: ReportCreatedOut},
    summary="Report a failure or water quality without an account (multipart/form-data; CAPTCHA when it is on)",
)
def report_create(
    request: HttpRequest,
    case_type: Form[str],
    location: Form[str],
    description: Form[str],
    email: Form[str] = "",
    phone: Form[str] = "",
    photo: File[UploadedFile] = None,
):
    if not ratelimit.consume(request, action=REPORT):
        raise problems.HttpError(429, _("Too many reports from this address. Please wait an hour or call us."))
    form = ticket_forms.ReportForm(request.POST, request.FILES, remote_ip=http.client_ip(request))
    if not form.is_valid():
        raise form_invalid(form)
    data = form.cleaned_data
    try:
        case, token = ticket_services.report_open(
            now=timezone.now(), case_type=data["case_type"], location=data["location"],
            description=data["description"], email=data["email"] or "", phone=str(data["phone"] or ""),
            photo=data["photo"], language=translation.get_language() or settings.LANGUAGE_CODE,
        )  # fmt: skip
    except (ticket_services.ReportRejected, ticket_services.AttachmentRejected) as exc:
        raise problems.HttpError(422, str(exc)) from None
    case = tickets.report_by_token(token=token)
    return 201, {**report_out(case, case.thread), "token": token}


@router.get("/reports/{token}", response=ReportOut, summary="A report by its private token, with the thread")
def report_detail(request: HttpRequest, token: str):
    case = tickets.report_by_token(token=token)  # Http404 for a wrong token
    return report_out(case, case.thread)
