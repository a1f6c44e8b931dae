"""The personal access tokens page's form (api/views.py)."""

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=64, help_text=_("What the token is for, e.g. the spreadsheet that reads it.")
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        initial=90,
        error_messages={"min_value": _("A token is valid for at least one day.")},
    )
    can_write = forms.BooleanField(label=_("May submit readings and cases"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.IBOK_API_TOKEN_MAX_DAYS
        days = self.fields["days"]
        days.validators.append(
            MaxValueValidator(limit, message=_("A token is valid for at most %(limit_value)s days."))
        )
        days.widget.attrs["max"] = limit
        days.help_text = _("From 1 to %(limit)s days.") % {"limit": limit}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name."))
        return name
