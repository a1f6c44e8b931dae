"""The signed-in user, the customers in scope and the user's notification preferences."""

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from accounts.permissions import request_scope
from api.common import form_invalid, require_write
from notices import forms as notice_forms
from notices import selectors as notice_selectors
from notices import services as notice_services
from notices.models import Channel, Kind

router = Router(tags=["account"])


class CustomerOut(Schema):
    id: int
    number: str
    name: str
    access: str  # "full": acts as the customer; "partial": some delivery points only


class MeOut(Schema):
    username: str
    email: str
    customers: list[CustomerOut]


@router.get("/me", response=MeOut, summary="The signed-in user and the customers they may act for")
def me(request: HttpRequest):
    scope = request_scope(request)
    customers = scope.customers().order_by("number", "id")
    return {
        "username": request.user.username,
        "email": request.user.email,
        "customers": [
            {"id": c.pk, "number": c.number, "name": c.name,
             "access": "full" if c.pk in scope.full_customer_ids else "partial"}
            for c in customers
        ],
    }  # fmt: skip


# --- notification preferences (the notification settings page) -------------------------------------------------


class PreferenceOut(Schema):
    kind: Kind  # what about
    channel: Channel  # EMAIL or SMS
    enabled: bool


class PreferencesOut(Schema):
    preferences: list[PreferenceOut]  # every kind on every channel
    phone: str  # the account's phone; SMS go to it once verified (on the settings page)
    phone_verified: bool


class PreferenceIn(Schema):
    kind: Kind
    channel: Channel


class PreferencesIn(Schema):
    enabled: list[PreferenceIn]  # the switches to turn on; every other one is turned off


def preferences_out(user) -> dict:
    enabled = notice_selectors.preferences_of(user=user)
    phone = notice_selectors.phone_state(user=user, now=timezone.now())
    return {
        "preferences": [
            {"kind": kind, "channel": channel, "enabled": (kind.value, channel.value) in enabled}
            for kind in Kind
            for channel in Channel
        ],
        "phone": phone.phone,
        "phone_verified": phone.verified,
    }


@router.get("/notification-preferences", response=PreferencesOut, summary="Which notifications go out on which channel")
def preferences(request: HttpRequest):
    return preferences_out(request.user)


@router.post(
    "/notification-preferences",
    response=PreferencesOut,
    summary="Set the switches: those listed on, every other off (as the settings page's form saves them)",
)
def preferences_update(request: HttpRequest, body: PreferencesIn):
    require_write(request)
    chosen = {(item.kind.value, item.channel.value) for item in body.enabled}
    form = notice_forms.PreferencesForm({f"{kind.lower()}__{channel.lower()}": "on" for kind, channel in chosen})
    if not form.is_valid():
        raise form_invalid(form)
    notice_services.preferences_save(user=request.user, enabled=form.enabled(), now=timezone.now())
    return preferences_out(request.user)
