"""e-Invoices: the state per customer, switching on and resigning, through the e-invoice pages' forms and
einvoice.services (the same consent record, verification e-mail, case and outbox message)."""

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema

from accounts.http import client_ip
from accounts.permissions import Need, access_customer, request_scope
from api import problems
from api.common import LocalDateTime, conditional, form_invalid, require_write, with_headers
from einvoice import forms as einvoice_forms
from einvoice import selectors as einvoice
from einvoice import services as einvoice_services

router = Router(tags=["e-invoices"])


class EinvoiceOut(Schema):
    customer_id: int
    customer_number: str
    may_switch: bool  # only those who act as the customer may switch (a manager of some points may not)
    status: str  # NONE, PENDING (waiting for the address to be confirmed), ACTIVE or ENDED
    email: str | None
    accepted_at: LocalDateTime | None
    paper_from: date | None  # after a resignation: the first day of paper invoices
    verification_pending_for: str | None  # an address a confirmation link was sent to


def state_out(state: einvoice.CustomerState) -> dict:
    consent = state.consent
    return {
        "customer_id": state.customer.pk, "customer_number": state.customer.number, "may_switch": state.may_switch,
        "status": consent.status if consent else "NONE", "email": consent.email if consent else None,
        "accepted_at": consent.accepted_at if consent else None, "paper_from": consent.ends_on if consent else None,
        "verification_pending_for": state.verification.email if state.verification else None,
    }  # fmt: skip


@router.get(
    "/einvoice",
    response={200: list[EinvoiceOut], 304: None},
    summary="The e-invoice state of every customer the user may act for",
)
def einvoice_list(request: HttpRequest, response: HttpResponse):
    scope = request_scope(request)
    not_modified, headers = conditional(request, scope.customer_ids)
    if not_modified:
        return not_modified
    with_headers(response, headers)
    return [state_out(state) for state in einvoice.overview(scope=scope, now=timezone.now())]


class EinvoiceRequestIn(Schema):
    email: str
    accept_terms: bool  # "I have read and accept the e-invoice terms" (/einvoice/terms/)


@router.post(
    "/customers/{customer_id}/einvoice",
    response={201: EinvoiceOut},
    summary="Switch e-invoices on (the terms accepted); an address other than the account's verified one gets a link",
)
def einvoice_request(request: HttpRequest, customer_id: int, body: EinvoiceRequestIn):
    require_write(request)
    scope = request_scope(request)
    customer = access_customer(scope, customer_id, need=Need.ACT)  # a manager of some points: 403
    form = einvoice_forms.ConsentRequestForm({"email": body.email, "accept_terms": body.accept_terms or ""})
    if not form.is_valid():
        raise form_invalid(form)
    now = timezone.now()
    try:
        einvoice_services.consent_request(
            customer=customer, user=request.user, email=form.cleaned_data["email"],
            terms=einvoice.terms_current(now=now), now=now, ip_address=client_ip(request),
            base_url=request.build_absolute_uri("/"),
        )  # fmt: skip
    except einvoice_services.EinvoiceError as exc:
        raise problems.HttpError(409, str(exc)) from None
    return 201, state_out(einvoice.state_for(scope=scope, customer=customer, now=now))


class ResignationIn(Schema):
    paper_from: date  # today or later
    street: str | None = None  # the paper invoices' address; by default the customer's
    building: str | None = None
    apartment: str | None = None
    postal_code: str | None = None
    city: str | None = None


@router.post(
    "/customers/{customer_id}/einvoice/resignation",
    response={200: EinvoiceOut},
    summary="Resign from e-invoices: paper invoices from a day, to the customer's address unless another is given",
)
def einvoice_resign(request: HttpRequest, customer_id: int, body: ResignationIn):
    require_write(request)
    scope = request_scope(request)
    customer = access_customer(scope, customer_id, need=Need.ACT)
    address = {name: getattr(customer, name) for name in ("street", "building", "apartment", "postal_code", "city")}
    given = {name: value for name, value in body.dict(exclude={"paper_from"}).items() if value is not None}
    form = einvoice_forms.ResignationForm({"paper_from": body.paper_from.isoformat(), **address, **given})
    if not form.is_valid():
        raise form_invalid(form)
    now = timezone.now()
    try:
        einvoice_services.resignation_submit(
            customer=customer, user=request.user, paper_from=form.cleaned_data["paper_from"],
            address=form.address(), now=now, ip_address=client_ip(request),
        )  # fmt: skip
    except einvoice_services.ResignationDateInPast as exc:
        raise problems.Invalid(str(exc), [{"loc": ["paper_from"], "msg": str(exc)}]) from None
    except einvoice_services.EinvoiceError as exc:
        raise problems.HttpError(409, str(exc)) from None
    return 200, state_out(einvoice.state_for(scope=scope, customer=customer, now=now))
