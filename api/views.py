"""The personal access tokens page (/settings/tokens/): list, create (behind re-authentication), revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.reauth import reauthentication_required
from api import forms, selectors, services
from core.methods import require_POST, require_safe


def _page(request: HttpRequest, *, form: forms.TokenForm | None = None, secret: str = "") -> HttpResponse:
    context = {
        "tokens": selectors.tokens_for(user=request.user),
        "form": form or forms.TokenForm(),
        "secret": secret,
        "now": timezone.now(),
    }
    return render(request, "api/tokens.html", context)


@login_required
@require_safe
def token_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
@reauthentication_required  # a key to the account: the password (or second factor) again after five minutes
def token_create(request: HttpRequest) -> HttpResponse:
    form = forms.TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form)
    _row, secret = services.token_create(
        user=request.user,
        name=form.cleaned_data["name"],
        days=form.cleaned_data["days"],
        can_write=form.cleaned_data["can_write"],
        now=timezone.now(),
    )
    messages.success(request, _("Token created. Copy it now: it is shown only once."))
    return _page(request, secret=secret)  # rendered, not redirected: the secret is never stored anywhere


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(selectors.tokens_for(user=request.user), pk=token_id)
    services.token_revoke(token=token, now=timezone.now())
    messages.success(request, _("Token revoked: it no longer opens the API."))
    return redirect("api-tokens:list")
