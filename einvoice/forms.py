from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from einvoice.services import PaperAddress

postal_code_validator = RegexValidator(r"^\d{2}-\d{3}$", _("Enter the postal code as 00-000."))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ConsentRequestForm(forms.Form):
    """Wniosek o przesyłanie faktur drogą elektroniczną."""

    email = forms.EmailField(
        label=_("E-mail address for invoices"),
        help_text=_("If it is not your account's e-mail, we first send a link to it to check that it works."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    accept_terms = forms.BooleanField(
        label=_("I have read and accept the e-invoice terms"),
        error_messages={"required": _("Accept the e-invoice terms to receive invoices electronically.")},
    )


class AddressChangeForm(forms.Form):
    email = forms.EmailField(
        label=_("New e-mail address for invoices"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ResignationForm(forms.Form):
    paper_from = forms.DateField(
        label=_("Paper invoices from"),
        help_text=_("Today or a later day. Until then invoices still come by e-mail."),
        widget=DateInput,
    )
    street = forms.CharField(
        label=_("Street"), max_length=128, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    building = forms.CharField(label=_("Building number"), max_length=16)
    apartment = forms.CharField(label=_("Apartment number"), max_length=16, required=False)
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=6,
        validators=[postal_code_validator],
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        label=_("City"), max_length=64, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )

    def address(self) -> PaperAddress:
        data = self.cleaned_data
        return PaperAddress(
            street=data["street"].strip(),
            building=data["building"].strip(),
            apartment=data["apartment"].strip(),
            postal_code=data["postal_code"],
            city=data["city"].strip(),
        )
