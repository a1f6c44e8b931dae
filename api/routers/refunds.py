"""Overpayment refunds (zwrot nadpłaty): each own customer's overpayment and requests, and a new request, through
the page's form and billing.services under the pages' Scope. A request needs the password again (the page asks for
it, or the second factor, when the sign-in is older than five minutes; an app holds a token, so it always sends it)."""

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from accounts.permissions import request_scope
from api import problems
from api.common import LocalDateTime, Money, form_invalid, money, require_write
from billing import forms as billing_forms
from billing import selectors as billing
from billing import services as billing_services
from billing.models import RefundRequest

router = Router(tags=["refunds"])


class RefundOut(Schema):
    reference: str
    customer_id: int
    method: str  # BANK_TRANSFER or OFFSET
    bank_account: str  # the NRB for a transfer, "" for an offset
    amount: Money  # the overpayment when it was requested
    status: str  # REQUESTED, PAID_OUT, OFFSET or REFUSED
    requested_at: LocalDateTime
    decided_at: LocalDateTime | None
    decision_note: str


class RefundCustomerOut(Schema):
    customer_id: int
    customer_number: str
    overpayment: Money | None  # null: no overpayment to ask for
    open_request: str | None  # the reference of the request being handled; a new one waits for its decision
    requests: list[RefundOut]  # the newest first


class RefundIn(Schema):
    customer_id: int
    method: str  # BANK_TRANSFER or OFFSET
    bank_account: str = ""  # the NRB (26 digits, spaces and "PL" allowed) for BANK_TRANSFER
    password: str  # the user's password again: money leaves to an account the caller typed


def refund_out(refund: RefundRequest) -> dict:
    return {
        "reference": refund.reference, "customer_id": refund.customer_id, "method": refund.method,
        "bank_account": refund.bank_account, "amount": money(refund.amount), "status": refund.status,
        "requested_at": refund.requested_at, "decided_at": refund.decided_at, "decision_note": refund.decision_note,
    }  # fmt: skip


@router.get(
    "/refunds",
    response=list[RefundCustomerOut],
    summary="Each own customer's overpayment and refund requests (a property manager gets an empty list)",
)
def refund_list(request: HttpRequest):
    customers = list(billing.refund_customers(scope=request_scope(request)))
    requests = billing.refund_requests_of(customer_ids=[customer.pk for customer in customers])
    rows = []
    for customer in customers:
        balance = getattr(customer, "balance", None)  # loaded with the customer; a missing one raises AttributeError
        own = [refund for refund in requests if refund.customer_id == customer.pk]
        open_request = next((refund.reference for refund in own if refund.is_open), None)
        rows.append(
            {
                "customer_id": customer.pk,
                "customer_number": customer.number,
                "overpayment": money(balance.overpayment) if balance is not None and balance.is_overpayment else None,
                "open_request": open_request,
                "requests": [refund_out(refund) for refund in own],
            }  # fmt: skip
        )
    return rows


@router.post(
    "/refunds",
    response={201: RefundOut},
    summary="Ask for an overpayment back (transfer to an NRB or offset); the password again; one open at a time",
)
def refund_create(request: HttpRequest, payload: RefundIn):
    require_write(request)
    if not request.user.has_usable_password() or not request.user.check_password(payload.password):
        raise problems.Forbidden(_("The password is not correct."))
    customers = billing.refund_customers(scope=request_scope(request))
    form = billing_forms.RefundForm(
        {"customer": payload.customer_id, "method": payload.method, "bank_account": payload.bank_account},
        customers=customers,
    )
    if not form.is_valid():
        raise form_invalid(form)
    data = form.cleaned_data
    try:
        refund = billing_services.refund_request_submit(
            customer=data["customer"], user=request.user, method=data["method"],
            bank_account=data["bank_account"], now=timezone.now(),
        )  # fmt: skip
    except billing_services.RefundRejected as exc:
        raise problems.HttpError(409, str(exc)) from None
    return 201, refund_out(refund)
