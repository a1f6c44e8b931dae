"""The API's self-reading with a photo of the meter (a multipart POST, as a phone app sends a picture): the page's
own form (a real PNG or JPEG, size, ClamAV) and service (window, previous value, unusual use, the photo's EXIF date).
"""

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, UploadedFile

from accounts.permissions import request_scope
from api import problems
from meters import forms as meter_forms
from meters import selectors as meters
from meters import services as meter_services

router = Router(tags=["readings"])


class PhotoReadingOut(Schema):
    portal_reference: str
    meter_id: int
    read_date: date
    value: str
    status: str
    has_photo: bool
    photo_check: str  # "OK", "NO_DATE", "TOO_OLD" or "FUTURE": the photo's EXIF date against the reading
    photo_flagged: bool  # the office looks at the photo before the reading is used
    message: str  # what the page would tell the customer about the photo ("" when nothing)


@router.post(
    "/meters/{meter_id}/readings/photo",
    response={201: PhotoReadingOut},
    summary="Submit a self-reading with a photo of the meter (multipart: value, photo, confirm_unusual)",
)
def reading_photo_submit(
    request: HttpRequest,
    meter_id: int,
    value: Form[str],
    photo: File[UploadedFile],
    confirm_unusual: Form[bool] = False,
):
    token = getattr(request, "api_token", None)
    if token is not None and not token.can_write:
        raise problems.Forbidden(_("This token may only read. Make one that may submit readings and cases."))
    meter = meters.access_meter(request_scope(request), meter_id)  # Http404: missing and not yours alike
    form = meter_forms.SelfReadingForm({"value": value, "confirm": confirm_unusual}, {"photo": photo})
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        raise problems.HttpError(422, str(first))
    try:
        saved = meter_services.self_reading_submit(
            meter=meter,
            value=form.cleaned_data["value"],
            photo=form.cleaned_data["photo"],
            confirmed_jump=form.cleaned_data["confirm"],
            now=timezone.now(),
            user=request.user,
        )
    except meter_services.ReadingRejected as exc:
        raise problems.HttpError(422, str(exc)) from None
    return 201, {
        "portal_reference": saved.portal_reference,
        "meter_id": meter.pk,
        "read_date": saved.read_date,
        "value": f"{saved.value:.3f}",
        "status": saved.status,
        "has_photo": bool(saved.photo),
        "photo_check": saved.photo_check,
        "photo_flagged": saved.photo_is_flagged,
        "message": meter_services.photo_check_message(saved),
    }
