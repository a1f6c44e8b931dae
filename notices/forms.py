from django import forms
from django.utils.translation import gettext_lazy as _

from notices.models import Channel, Kind


def _field_name(kind: str, channel: str) -> str:
    return f"{kind.lower()}__{channel.lower()}"


class PreferencesForm(forms.Form):
    """A switch per kind and channel (e-powiadomienia, e-monit, e-komunikat, komunikaty × e-mail, SMS)."""

    def __init__(self, *args, enabled: set[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        enabled = enabled or set()
        for kind in Kind:
            for channel in Channel:
                self.fields[_field_name(kind, channel)] = forms.BooleanField(
                    label=channel.label, required=False, initial=(kind.value, channel.value) in enabled
                )

    def rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        """(kind label, [e-mail field, SMS field]) for the table of switches."""
        return [(kind.label, [self[_field_name(kind, channel)] for channel in Channel]) for kind in Kind]

    def enabled(self) -> set[tuple[str, str]]:
        return {
            (kind.value, channel.value)
            for kind in Kind
            for channel in Channel
            if self.cleaned_data.get(_field_name(kind, channel))
        }


class PhoneCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the SMS"),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("Enter the 6 digits from the SMS.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
