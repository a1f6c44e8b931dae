import json

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts import exports, forms, http, permissions, selectors, services, switcher, terms_document, throttling
from accounts.middleware import terms_recheck
from accounts.models import DeletionRequestStatus, User
from accounts.reauth import reauthentication_required
from core.methods import require_form, require_http_methods, require_POST, require_safe
from core.models import SecurityEventKind
from core.security import security_event_record

RECAPTCHA_CSP = {
    "script-src": ["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"],
    "frame-src": ["https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"],
}


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _throttled(request: HttpRequest, *, identifier: str, form_name: str) -> None:
    """A registration-like attempt refused by the throttle: into the security log."""
    security_event_record(
        now=timezone.now(),
        kind=SecurityEventKind.REGISTRATION_THROTTLED,
        ip_address=http.client_ip(request),
        identifier=identifier,
        details={"form": form_name},
    )


@require_form
def register(request: HttpRequest) -> HttpResponse:
    """Registration by customer number and proof; the answer is the same whether or not the details match."""
    if request.user.is_authenticated:
        return redirect("pages:dashboard")
    form = forms.RegistrationForm(request.POST or None, remote_ip=http.client_ip(request))
    status = 200
    if request.method == "POST" and not throttling.registration_allowed(
        request, customer_number=request.POST.get("customer_number", "")
    ):
        form.is_valid()
        form.add_error(None, _("Too many registration attempts. Please wait an hour and try again."))
        _throttled(request, identifier=request.POST.get("customer_number", ""), form_name="register")
        status = 429
    elif form.is_valid():
        data = form.cleaned_data
        services.registration_submit(
            customer_number=data["customer_number"],
            invoice_number=data["invoice_number"],
            amount=data["amount"],
            email=data["email"],
            phone=data["phone"] or "",
            einvoice_requested=data["einvoice"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
            ip_address=http.client_ip(request),
            base_url=_base_url(request),
            now=timezone.now(),
        )
        return redirect("accounts:register-sent")
    context = {"form": form, "terms": selectors.current_terms(now=timezone.now())}
    response = render(request, "accounts/register.html", context, status=status)
    if settings.IBOK_RECAPTCHA_ENABLED:
        response._csp_update = RECAPTCHA_CSP  # the widget's script and frame, on this page only
    return response


@require_safe
def register_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_sent.html")


@require_form
def register_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mail's link: the user sets a password, the account is activated, the activation e-mail goes out."""
    try:
        registration = selectors.registration_from_token(token=token)
    except selectors.RegistrationLinkExpired:
        return _link_problem(request, _("This link has expired. Please register again to get a new one."))
    except selectors.RegistrationLinkAlreadyUsed:
        return _link_problem(
            request, _("This link has already been used: your account is active. Sign in with your customer number.")
        )
    except selectors.RegistrationLinkInvalid:
        return _link_problem(
            request, _("This link is not valid. Check that you copied the whole address from the e-mail.")
        )
    candidate = User(username=registration.customer.number, email=registration.email)
    form = forms.SetPasswordForm(request.POST or None, user=candidate)
    if form.is_valid():
        try:
            services.registration_complete(
                registration=registration,
                password=form.cleaned_data["password1"],
                now=timezone.now(),
                ip_address=http.client_ip(request),
                base_url=_base_url(request),
                user_agent=http.user_agent(request),
            )
        except services.RegistrationLinkUsed:
            return _link_problem(
                request,
                _("This link has already been used: your account is active. Sign in with your customer number."),
            )
        except (services.CustomerAlreadyRegistered, services.EmailAlreadyUsed):
            return _link_problem(
                request,
                _("This customer number or e-mail already has an account. Sign in, or reset a forgotten password."),
            )
        messages.success(
            request,
            _("Your account is active. Sign in with your customer number %(number)s and your new password.")
            % {"number": registration.customer.number},
        )
        return redirect("account_login")
    return render(request, "accounts/register_confirm.html", {"form": form, "registration": registration})


def _link_problem(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "accounts/link_problem.html", {"message": message}, status=400)


@require_safe
def terms(request: HttpRequest) -> HttpResponse:
    """The terms in force (or ?version=), in the reader's language when translated, with every earlier version."""
    versions = selectors.terms_versions(now=timezone.now())
    wanted = request.GET.get("version")
    shown = next((v for v in versions if v.version == wanted), None) if wanted else (versions[0] if versions else None)
    if wanted and shown is None:
        raise Http404
    title, body, language = shown.translated(get_language()) if shown else ("", "", "")
    context = {
        "terms": shown,
        "title": title,
        "body": body,
        "text_language": language,
        "versions": versions,
        "current": versions[0] if versions else None,
    }
    return render(request, "accounts/terms.html", context)


@require_safe
def terms_pdf(request: HttpRequest, version: str) -> HttpResponse:
    """One published version of the terms as a PDF, in the reader's language when translated."""
    shown = next((v for v in selectors.terms_versions(now=timezone.now()) if v.version == version), None)
    if shown is None:
        raise Http404
    response = HttpResponse(terms_document.render(terms=shown, language=get_language()), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="regulamin-ibok-{slugify(shown.version)}.pdf"'
    return response


def _safe_next(request: HttpRequest, fallback: str = "pages:dashboard") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
@require_form
def terms_accept(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    current = selectors.current_terms(now=now)
    if current is None or selectors.terms_accepted(user=request.user, terms=current):
        return redirect(_safe_next(request))
    # Someone who never accepted any version (a manager's first sign-in) is not told the terms "have changed".
    first_time = not selectors.terms_ever_accepted(user=request.user)
    form = forms.TermsAcceptForm(request.POST if request.method == "POST" else None, first_time=first_time)
    if form.is_valid():
        services.terms_accept(
            user=request.user,
            terms=current,
            now=now,
            ip_address=http.client_ip(request),
            user_agent=http.user_agent(request),
        )
        terms_recheck(request, user=request.user, now=now)
        if first_time:
            messages.success(request, _("Thank you. The terms are accepted."))
        else:
            messages.success(request, _("Thank you. The new terms are accepted."))
        return redirect(_safe_next(request))
    title, body, language = current.translated(get_language())
    context = {"form": form, "terms": current, "title": title, "body": body, "text_language": language}
    context |= {"next": _safe_next(request, ""), "first_time": first_time}
    return render(request, "accounts/terms_accept.html", context)


def _settings_page(request: HttpRequest, **forms_override) -> HttpResponse:
    user = request.user
    overview = selectors.settings_overview(user=user, now=timezone.now())
    scope = permissions.request_scope(request).everything()  # the account's, whatever the switcher's choice
    contact_customers = scope.full_customers()
    first = overview.customers[0] if overview.customers else None
    initial = {}
    if first is not None:
        source = first.last_change or first.customer
        initial = {
            "customer": first.customer.pk,
            "street": source.street,
            "building": source.building,
            "apartment": source.apartment,
            "postal_code": source.postal_code,
            "city": source.city,
            "phone": user.phone,
        }
    context = {
        "overview": overview,
        "contact_form": forms_override.get("contact_form")
        or forms.ContactForm(initial=initial, customers=contact_customers),
        # The customer, or a manager of all of a customer's points (Scope.acts_as_customer).
        "may_change_contact": bool(scope.full_customer_ids),
        # Customers the account manages (not its own numbers): not "no customer number assigned".
        "managed_count": len(scope.customer_ids - scope.owned_customer_ids),
        "language_form": forms.LanguageForm(initial={"language": user.language}),
        "deletion_form": forms_override.get("deletion_form") or forms.DeletionRequestForm(),
    }
    status = 400 if forms_override else 200
    return render(request, "accounts/settings.html", context, status=status)


@login_required
@require_safe
def settings_index(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@login_required
@require_POST
@reauthentication_required  # the phone that gets SMS codes and the address for letters
def contact_update(request: HttpRequest) -> HttpResponse:
    form = forms.ContactForm(request.POST, customers=permissions.request_scope(request).everything().full_customers())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.contact_change_submit(
                user=request.user,
                customer=data["customer"],
                street=data["street"],
                building=data["building"],
                apartment=data["apartment"],
                postal_code=data["postal_code"],
                city=data["city"],
                phone=data["phone"] or "",
                now=timezone.now(),
                ip_address=http.client_ip(request),
            )
        except services.ContactChangeNotAllowed:
            form.add_error(None, _("Only the customer can change the contact data."))
        else:
            messages.success(request, _("Contact data saved. We are passing it to the customer service office."))
            return redirect("accounts:settings")
    return _settings_page(request, contact_form=form)


@login_required
@require_POST
def language_update(request: HttpRequest) -> HttpResponse:
    form = forms.LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the languages offered."))
        return redirect("accounts:settings")
    language = form.cleaned_data["language"]
    services.language_set(user=request.user, language=language)
    translation.activate(language)
    messages.success(request, _("Language saved."))
    response = redirect("accounts:settings")
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=False,
        samesite="Lax",
    )
    return response


@login_required
@require_form
def customer_add(request: HttpRequest) -> HttpResponse:
    """Add another customer number to the account: the same proof as at registration."""
    form = forms.CustomerProofForm(request.POST or None)
    status = 200
    if request.method == "POST" and not throttling.registration_allowed(
        request, customer_number=request.POST.get("customer_number", "")
    ):
        form.is_valid()
        form.add_error(None, _("Too many attempts. Please wait an hour and try again."))
        _throttled(request, identifier=request.POST.get("customer_number", ""), form_name="customer_add")
        status = 429
    elif form.is_valid():
        data = form.cleaned_data
        try:
            access = services.customer_access_add(
                user=request.user,
                customer_number=data["customer_number"],
                invoice_number=data["invoice_number"],
                amount=data["amount"],
                now=timezone.now(),
                ip_address=http.client_ip(request),
            )
        except services.CustomerAlreadyYours:
            form.add_error("customer_number", _("This customer number is already in your account."))
        except services.CustomerManagedByYou:
            form.add_error(
                "customer_number",
                _("You manage this customer's properties. To change the scope of your access, contact the office."),
            )
        except services.CustomerProofRejected:
            form.add_error(None, _("These details do not match our records. Check them against your last invoice."))
        else:
            messages.success(
                request, _("Customer number %(number)s added to your account.") % {"number": access.customer.number}
            )
            return redirect("accounts:settings")
        status = 400
    return render(request, "accounts/customer_add.html", {"form": form}, status=status)


@login_required
@require_safe
def data_export(request: HttpRequest) -> HttpResponse:
    """GDPR: a JSON file with everything the portal holds about the user."""
    now = timezone.now()
    data = exports.user_data_export(user=request.user, now=now)
    services.data_export_record(user=request.user, now=now, ip_address=http.client_ip(request))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="ibok-data-{timezone.localdate(now):%Y-%m-%d}.json"'
    return response


@login_required
@require_POST
def deletion_request(request: HttpRequest) -> HttpResponse:
    form = forms.DeletionRequestForm(request.POST)
    if form.is_valid():
        try:
            deletion = services.deletion_request_submit(
                user=request.user,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
                ip_address=http.client_ip(request),
            )
        except services.DeletionAlreadyRequested:
            form.add_error(None, _("Your earlier request is still waiting for the office."))
        else:
            if deletion.status == DeletionRequestStatus.DONE:  # nothing owed: carried out at once
                auth.logout(request)
                messages.success(
                    request, _("Your account has been deleted. We sent a confirmation to your e-mail address.")
                )
                return redirect("account_login")
            messages.success(
                request, _("Your request to delete the account has been recorded. The office will contact you.")
            )
            return redirect("accounts:settings")
    return _settings_page(request, deletion_form=form)


# --- Property managers -----------------------------------------------------------------------------------------


@require_form
def manager_request(request: HttpRequest) -> HttpResponse:
    """A property manager asks for access to the customers they manage; the office grants it in the admin."""
    user = request.user if request.user.is_authenticated else None
    initial = {"email": user.email, "contact_name": user.get_full_name()} if user else None
    form = forms.ManagerRequestForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        remote_ip=http.client_ip(request),
        with_captcha=user is None,
    )
    status = 200
    if request.method == "POST" and not throttling.registration_allowed(
        request, customer_number="nip:" + request.POST.get("nip", "")
    ):
        form.is_valid()
        form.add_error(None, _("Too many requests. Please wait an hour and try again."))
        _throttled(request, identifier="nip:" + request.POST.get("nip", ""), form_name="manager_request")
        status = 429
    elif form.is_valid():
        data = form.cleaned_data
        services.manager_request_submit(
            user=user,
            company_name=data["company_name"],
            nip=data["nip"],
            contact_name=data["contact_name"],
            email=data["email"],
            phone=str(data["phone"] or ""),
            properties=data["properties"],
            document=data["document"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
            ip_address=http.client_ip(request),
            now=timezone.now(),
        )
        return redirect("accounts:manager-request-sent")
    elif request.method == "POST":
        status = 400
        if "document" in form.errors:
            security_event_record(
                now=timezone.now(),
                kind=SecurityEventKind.UPLOAD_REFUSED,
                ip_address=http.client_ip(request),
                identifier=request.POST.get("email", ""),
                details={"view": "accounts:manager-request", "why": [str(e) for e in form.errors["document"]]},
            )
    response = render(request, "accounts/manager_request.html", {"form": form}, status=status)
    if user is None and settings.IBOK_RECAPTCHA_ENABLED:
        response._csp_update = RECAPTCHA_CSP
    return response


@require_safe
def manager_request_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/manager_request_sent.html")


@login_required
@require_http_methods(["GET", "POST"])
def customer_switch(request: HttpRequest) -> HttpResponse:
    """The customer switcher: choose which customer the one-customer pages show first (kept in the session)."""
    scope = permissions.request_scope(request)
    if request.method == "POST":
        if "all" in request.POST:
            switcher.current_clear(request)
            messages.success(request, _("You now see all your properties."))
            return redirect(_safe_next(request))
        customer_id = request.POST.get("customer", "")
        if not customer_id.isdigit():
            raise Http404
        customer = permissions.access_customer(scope, int(customer_id))
        switcher.current_set(request, customer=customer)
        messages.success(
            request, _("You now see customer %(number)s %(name)s.") % {"number": customer.number, "name": customer.name}
        )
        return redirect(_safe_next(request))
    search = request.GET.get("q", "")[:100]
    page = Paginator(selectors.switchable_customers(scope=scope, search=search), 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "query": query.urlencode(),
        "search": search,
        "current": switcher.current_label(request) if scope.chosen else None,
        "next": _safe_next(request, ""),
    }
    return render(request, "accounts/customer_switch.html", context)


@login_required
@require_POST
def passkey_prompt_dismiss(request: HttpRequest) -> HttpResponse:
    """The customer closes the dashboard's offer of a passkey ("not now"); it stays on the settings page."""
    services.passkey_prompt_close(user=request.user, now=timezone.now())
    return redirect(_safe_next(request))
