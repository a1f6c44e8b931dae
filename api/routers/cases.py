"""Cases (Lista spraw): the list with its unread counts, a thread, a new case and a reply with attachments, through
the case pages' own forms and tickets.services, under the pages' Scope."""

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from accounts import http
from accounts.permissions import request_scope
from api import problems
from api.common import LocalDateTime, conditional, form_invalid, paginate, require_write, with_headers
from core.models import SecurityEventKind
from core.security import security_event_record
from tickets import forms as ticket_forms
from tickets import selectors as tickets
from tickets import services as ticket_services
from tickets.downloads import attachment_response
from tickets.models import Case, CaseStatus, CaseType, Sender

router = Router(tags=["cases"])


class CaseRowOut(Schema):
    """The list's columns: no., status, date sent, case type, subject, unread."""

    id: int
    status: str
    opened_at: LocalDateTime
    case_type: str
    subject: str
    unread: int  # replies from the office not read yet
    customer_id: int | None  # None: a report made without an account, joined to the user's list by their e-mail
    delivery_point_id: int | None
    last_message_at: LocalDateTime


class CasePage(Schema):
    count: int
    page: int
    pages: int
    results: list[CaseRowOut]


class CaseFilters(Schema):
    status: CaseStatus | None = None
    case_type: CaseType | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    sort: str | None = None  # number, status, sent, type, subject, unread; "-" first for descending (default -sent)
    page: int = 1


def case_row(case: Case, unread: int) -> dict:
    return {
        "id": case.pk, "status": case.status, "opened_at": case.opened_at, "case_type": case.case_type,
        "subject": case.subject, "unread": unread, "customer_id": case.customer_id,
        "delivery_point_id": case.delivery_point_id, "last_message_at": case.last_message_at,
    }  # fmt: skip


@router.get(
    "/cases",
    response={200: CasePage, 304: None},
    summary="Lista spraw: the cases with the page's columns, unread counts, filters and sort orders",
)
def case_list(request: HttpRequest, filters: Query[CaseFilters], response: HttpResponse):
    scope = request_scope(request)
    # The page's search form reads the same parameters, so an unknown sort falls back as it does there.
    form = ticket_forms.CaseSearchForm(request.GET or None)
    search = form.search() if form.is_bound else tickets.CaseSearch()
    # A report made without an account has no customer, so no data version: with one, the list is never a 304.
    if not tickets.has_own_reports(user=request.user):
        not_modified, headers = conditional(request, scope.customer_ids)
        if not_modified:
            return not_modified
        with_headers(response, headers)
    return paginate(tickets.case_list(scope=scope, search=search), filters.page, lambda c: case_row(c, c.unread))


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class MessageOut(Schema):
    id: int
    sender: str  # CUSTOMER (the customer's side) or STAFF (the office)
    body: str
    sent_at: LocalDateTime
    read_at: LocalDateTime | None
    attachments: list[AttachmentOut]


class CaseOut(CaseRowOut):
    closed_at: LocalDateTime | None
    can_reply: bool
    thread: list[MessageOut]  # the oldest first


def case_out(case: Case, *, unread: int) -> dict:
    return {
        **case_row(case, unread),
        "closed_at": case.closed_at,
        "can_reply": not case.is_closed,
        "thread": [
            {
                "id": m.pk,
                "sender": m.sender,
                "body": m.body,
                "sent_at": m.sent_at,
                "read_at": m.read_at,
                "attachments": [
                    {
                        "id": a.pk,
                        "name": a.original_name,
                        "content_type": a.content_type,
                        "size": a.size,
                        "url": reverse("api-v1:attachment", kwargs={"attachment_id": a.pk}),
                    }
                    for a in m.attachments.all()
                ],
            }  # fmt: skip
            for m in case.thread
        ],
    }


@router.get(
    "/cases/{case_id}",
    response={200: CaseOut, 304: None},
    summary="One case with its thread; as on the page, reading it marks the office's replies read",
)
def case_detail(request: HttpRequest, case_id: int, response: HttpResponse):
    case = tickets.access_case(request_scope(request), case_id)
    versioned = case.customer_id is not None  # a report made without an account has no data version: never a 304
    if versioned:
        not_modified, headers = conditional(request, [case.customer_id])
        if not_modified:
            return not_modified
    unread = sum(1 for m in case.thread if m.is_from_staff and m.read_at is None)
    if unread:
        ticket_services.case_mark_read(now=timezone.now(), case=case, reader=Sender.CUSTOMER)
        # The data version moved: the ETag of what the next request will see (no 304 for this one's).
        if versioned:
            _, headers = conditional(request, [case.customer_id])
    if versioned:
        with_headers(response, headers)
    return case_out(case, unread=unread)


@router.get("/attachments/{attachment_id}", response={200: bytes}, summary="A case attachment, as a download")
def attachment(request: HttpRequest, attachment_id: int):
    return attachment_response(tickets.access_attachment(request_scope(request), attachment_id))


def _upload_refused(request: HttpRequest, form, problem: str = "") -> None:
    """A refused attachment goes into the security log, as from the page."""
    why = [problem] if problem else [str(error) for error in form.errors.get("attachments", [])]
    if why:
        security_event_record(
            now=timezone.now(),
            kind=SecurityEventKind.UPLOAD_REFUSED,
            ip_address=http.client_ip(request),
            identifier=request.user.get_username(),
            details={"view": request.resolver_match.view_name if request.resolver_match else "", "why": why},
        )


@router.post(
    "/cases",
    response={201: CaseOut},
    summary="Open a case (multipart/form-data, attachments as on the page: PDF, JPG or PNG checked by content)",
)
def case_create(
    request: HttpRequest,
    case_type: Form[str],
    subject: Form[str],
    description: Form[str],
    customer: Form[int | None] = None,
    delivery_point: Form[int | None] = None,
    attachments: File[list[UploadedFile]] = None,
):
    require_write(request)
    scope = request_scope(request)
    # The page's form: the same fields, choices (the user's customers and points), limits and upload checks.
    form = ticket_forms.CaseForm(request.POST, request.FILES, scope=scope)
    if not form.is_valid():
        _upload_refused(request, form)
        raise form_invalid(form)
    data = form.cleaned_data
    try:
        case = ticket_services.case_open(
            now=timezone.now(), customer=data["customer"], delivery_point=data.get("delivery_point"),
            opened_by=request.user, case_type=data["case_type"], subject=data["subject"],
            description=data["description"], fields={}, attachments=data.get("attachments") or [],
        )  # fmt: skip
    except (ticket_services.CaseRejected, ticket_services.AttachmentRejected) as exc:
        if isinstance(exc, ticket_services.AttachmentRejected):
            _upload_refused(request, form, str(exc))
        raise problems.HttpError(422, str(exc)) from None
    return 201, case_out(tickets.access_case(scope, case.pk), unread=0)


@router.post(
    "/cases/{case_id}/messages",
    response={201: CaseOut},
    summary="Reply in a case (multipart/form-data, with attachments as on the page); a closed case answers 409",
)
def case_reply(request: HttpRequest, case_id: int, body: Form[str], attachments: File[list[UploadedFile]] = None):
    require_write(request)
    scope = request_scope(request)
    case = tickets.access_case(scope, case_id)
    form = ticket_forms.ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        _upload_refused(request, form)
        raise form_invalid(form)
    try:
        ticket_services.case_reply(
            now=timezone.now(), case=case, author=request.user, body=form.cleaned_data["body"],
            attachments=form.cleaned_data.get("attachments") or [],
        )  # fmt: skip
    except ticket_services.CaseClosed as exc:
        raise problems.HttpError(409, str(exc)) from None
    except (ticket_services.CaseRejected, ticket_services.AttachmentRejected) as exc:
        if isinstance(exc, ticket_services.AttachmentRejected):
            _upload_refused(request, form, str(exc))
        raise problems.HttpError(422, str(exc)) from None
    return 201, case_out(tickets.access_case(scope, case.pk), unread=0)
