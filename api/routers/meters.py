"""Meters and self-readings: meters.selectors and meters.services under the pages' Scope."""

from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from accounts.permissions import request_scope
from api import problems
from api.common import require_write
from meters import selectors as meters
from meters import services as meter_services

router = Router(tags=["meters"])


class ReadingIn(Schema):
    value: Decimal
    confirm_unusual: bool = False  # the page's "yes, the value is right" for an unusually high reading


class ReadingOut(Schema):
    portal_reference: str
    meter_id: int
    read_date: date
    value: str
    status: str


@router.post(
    "/meters/{meter_id}/readings",
    response={201: ReadingOut},
    summary="Submit a self-reading, validated as on the page (window, previous value, unusual use)",
)
def reading_submit(request: HttpRequest, meter_id: int, reading: ReadingIn):
    require_write(request)
    meter = meters.access_meter(request_scope(request), meter_id)
    try:
        saved = meter_services.self_reading_submit(
            meter=meter, value=reading.value, now=timezone.now(), user=request.user,
            confirmed_jump=reading.confirm_unusual,
        )  # fmt: skip
    except meter_services.ReadingRejected as exc:
        raise problems.HttpError(422, str(exc)) from None
    return 201, {
        "portal_reference": saved.portal_reference, "meter_id": meter.pk, "read_date": saved.read_date,
        "value": f"{saved.value:.3f}", "status": saved.status,
    }  # fmt: skip
