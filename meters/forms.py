from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from core import uploads
from meters import consumption
from meters.selectors import Scope

MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_FORMATS = {"PNG": "png", "JPEG": "jpg"}
MAX_PERIOD_YEARS = 20


class SelfReadingForm(forms.Form):
    value = forms.DecimalField(
        label=_("Meter reading"),
        help_text=_("The black digits are whole units (m³), the red ones are decimals. Up to three decimals."),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=3,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    photo = forms.FileField(
        label=_("Photo of the meter (optional)"),
        help_text=_(
            "A PNG or JPG picture taken today, at most 10 MB. The office compares it with the value you type, "
            "so the digits should be readable."
        ),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    confirm = forms.BooleanField(
        label=_("I have checked the value and it is right"),
        required=False,
    )

    def clean_photo(self) -> UploadedFile | None:
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        if photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("The photo is too large: it may be at most 10 MB."), code="too_large")
        # The content decides, never the file name or the browser's content type.
        image_format = uploads.image_format(photo)
        if image_format not in PHOTO_FORMATS:
            raise forms.ValidationError(_("The photo must be a PNG or JPG picture."), code="not_image")
        try:
            uploads.virus_scan(photo)
        except (uploads.VirusFound, uploads.ScannerUnavailable) as exc:
            raise forms.ValidationError(uploads.virus_message(exc, name=photo.name or ""), code="virus") from exc
        photo.seek(0)
        photo.name = f"photo.{PHOTO_FORMATS[image_format]}"
        return photo


class ConsumptionForm(forms.Form):
    """The period (inclusive dates as people say them) and what to analyse: a delivery point or one meter."""

    scope = forms.ChoiceField(label=_("Delivery point or meter"))
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, data, *, scopes: list[Scope], today: date):
        self.scopes = {scope.key: scope for scope in scopes}
        # By default the last twelve months: from the first day of the month eleven months ago up to today.
        initial_from = consumption.next_month(consumption.years_before(today))
        defaults = {
            "scope": scopes[0].key if scopes else "",
            "date_from": initial_from.isoformat(),
            "date_to": today.isoformat(),
        }
        # What the link or the form did not say takes its default ("?scope=meter-5" from a meter's page).
        given = {key: data.get(key) for key in defaults if data is not None and data.get(key)}
        super().__init__({**defaults, **given})
        self.fields["scope"].choices = [
            (scope.key, _("Delivery point %(address)s (main meters)") % {"address": scope.label})
            if scope.is_point
            else (scope.key, _("Meter %(meter)s") % {"meter": scope.label})
            for scope in scopes
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end of the period is before its start."))
            elif end - start > timedelta(days=366 * MAX_PERIOD_YEARS):
                self.add_error("date_to", _("The period may be at most 20 years long."))
        return cleaned

    @property
    def selected_scope(self) -> Scope:
        return self.scopes[self.cleaned_data["scope"]]

    @property
    def start(self) -> date:
        return self.cleaned_data["date_from"]

    @property
    def end(self) -> date:
        """The day after the last day asked for: periods are half-open."""
        return self.cleaned_data["date_to"] + timedelta(days=1)
