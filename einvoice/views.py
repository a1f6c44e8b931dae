from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.http import client_ip
from accounts.models import Customer
from accounts.permissions import Need, access_customer, request_scope
from core.methods import require_form, require_POST, require_safe
from einvoice import forms, pdf, selectors, services


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    return access_customer(request_scope(request), customer_id)


def _switchable(request: HttpRequest, customer_id: int) -> Customer:
    """A customer whose e-invoices this user may switch; a partial manager gets 403 (PermissionDenied)."""
    return access_customer(request_scope(request), customer_id, need=Need.ACT)


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    states = selectors.overview(scope=request_scope(request), now=now)
    return render(
        request,
        "einvoice/index.html",
        {"states": states, "terms": selectors.terms_current(now=now), "today": timezone.localdate()},
    )


@login_required
@require_safe
def detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's e-invoice history and the invoices e-mailed so far."""
    customer = _customer(request, customer_id)
    now = timezone.now()
    page = Paginator(selectors.deliveries(scope=request_scope(request), customer=customer), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "einvoice/detail.html",
        {
            "state": selectors.state_for(scope=request_scope(request), customer=customer, now=now),
            "events": selectors.history(customer=customer),
            "page": page,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_form
def consent_request(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _switchable(request, customer_id)
    now = timezone.now()
    terms = selectors.terms_current(now=now)
    form = forms.ConsentRequestForm(request.POST or None, initial={"email": request.user.email})
    if form.is_valid():
        try:
            consent = services.consent_request(
                customer=customer,
                user=request.user,
                email=form.cleaned_data["email"],
                terms=terms,
                now=now,
                ip_address=client_ip(request),
                base_url=_base_url(request),
            )
        except services.EinvoiceError as exc:
            form.add_error(None, str(exc))
        else:
            if consent.is_active:
                messages.success(
                    request,
                    _("e-Invoices are switched on. New invoices will come to %(email)s.") % {"email": consent.email},
                )
            else:
                messages.success(
                    request,
                    _("We sent a link to %(email)s. e-Invoices start when you open it.") % {"email": consent.email},
                )
            return redirect("einvoice:index")
    return render(request, "einvoice/request.html", {"customer": customer, "form": form, "terms": terms})


@login_required
@require_form
def address_change(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _switchable(request, customer_id)
    now = timezone.now()
    state = selectors.state_for(scope=request_scope(request), customer=customer, now=now)
    form = forms.AddressChangeForm(request.POST or None)
    if form.is_valid():
        try:
            consent = services.address_change_request(
                customer=customer,
                user=request.user,
                email=form.cleaned_data["email"],
                now=now,
                ip_address=client_ip(request),
                base_url=_base_url(request),
            )
        except services.EinvoiceError as exc:
            form.add_error(None, str(exc))
        else:
            new = form.cleaned_data["email"]
            if consent.email.lower() == new.lower():
                messages.success(request, _("e-Invoices now go to %(email)s.") % {"email": consent.email})
            else:
                messages.success(
                    request,
                    _("We sent a link to %(email)s. Invoices go to %(current)s until you open it.")
                    % {"email": new, "current": consent.email},
                )
            return redirect("einvoice:index")
    return render(request, "einvoice/address_change.html", {"state": state, "form": form})


@login_required
@require_form
def resignation(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _switchable(request, customer_id)
    now = timezone.now()
    state = selectors.state_for(scope=request_scope(request), customer=customer, now=now)
    initial = {
        "paper_from": timezone.localdate(now),
        "street": customer.street,
        "building": customer.building,
        "apartment": customer.apartment,
        "postal_code": customer.postal_code,
        "city": customer.city,
    }
    form = forms.ResignationForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            consent = services.resignation_submit(
                customer=customer,
                user=request.user,
                paper_from=form.cleaned_data["paper_from"],
                address=form.address(),
                now=now,
                ip_address=client_ip(request),
            )
        except services.ResignationDateInPast as exc:
            form.add_error("paper_from", str(exc))
        except services.EinvoiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Resignation recorded. Paper invoices go out from %(date)s.")
                % {"date": consent.ends_on.strftime("%d.%m.%Y")},
            )
            return redirect("einvoice:index")
    return render(request, "einvoice/resignation.html", {"state": state, "form": form})


@login_required
@require_POST
def verification_renew(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _switchable(request, customer_id)
    try:
        verification = services.verification_renew(
            customer=customer, user=request.user, now=timezone.now(), base_url=_base_url(request)
        )
    except services.EinvoiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("We sent a new link to %(email)s.") % {"email": verification.email})
    return redirect("einvoice:index")


@require_form
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: a page with one button (mail scanners that open links confirm nothing)."""
    now = timezone.now()
    verification, error = None, ""
    try:
        if request.method == "POST":
            verification = services.verification_confirm(token=token, now=now, ip_address=client_ip(request))
        else:
            verification = services.verification_check(token=token, now=now)
    except services.EinvoiceError as exc:
        error = str(exc)
    else:
        if request.method == "POST":
            messages.success(
                request, _("Thank you: the address %(email)s is confirmed.") % {"email": verification.email}
            )
            return redirect("einvoice:verified")
    return render(
        request, "einvoice/verify.html", {"verification": verification, "error": error}, status=400 if error else 200
    )


@require_safe
def verified(request: HttpRequest) -> HttpResponse:
    return render(request, "einvoice/verified.html")


@require_safe
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "einvoice/terms.html", {"terms": selectors.terms_current(now=timezone.now())})


@require_safe
def paper_form(request: HttpRequest, kind: str) -> HttpResponse:
    """The three paper forms (request, address change, resignation) as PDF, for customers without an account."""
    if kind not in pdf.FORMS:
        raise Http404
    response = HttpResponse(pdf.render_form(kind=kind), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf.FORMS[kind].filename}"'
    return response
