from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from django_recaptcha.fields import ReCaptchaField
from django_recaptcha.widgets import ReCaptchaV2Checkbox
from phonenumber_field.formfields import PhoneNumberField

from accounts.models import Customer, User

POSTAL_CODE = r"^[0-9]{2}-[0-9]{3}$"


class CaptchaWidget(ReCaptchaV2Checkbox):
    """The checkbox widget without django-recaptcha's inline script, which the portal's CSP would block."""

    template_name = "accounts/recaptcha_widget.html"


class CaptchaField(ReCaptchaField):
    """Tells Google the client address that accounts.http.client_ip found (not the raw X-Forwarded-For)."""

    remote_ip: str | None = None

    def get_remote_ip(self) -> str | None:
        return self.remote_ip


class CustomerProofForm(forms.Form):
    """The customer number and the proof: the last invoice's number, or the last settlement's gross amount."""

    customer_number = forms.CharField(
        label=_("Customer number"),
        max_length=32,
        help_text=_("The customer number (Nr Nabywcy) printed on your invoice."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    invoice_number = forms.CharField(
        label=_("Number of the last invoice"),
        max_length=40,
        required=False,
        help_text=_("For example FV/02291/11/2026."),
    )
    amount = forms.DecimalField(
        label=_("Or: gross amount of the last settlement (tenants of a housing community)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        localize=True,
        help_text=_("In złoty, for example 184,32."),
    )

    def clean(self):
        cleaned = super().clean()
        invoice_number = (cleaned.get("invoice_number") or "").strip()
        amount = cleaned.get("amount")
        if not invoice_number and amount is None and "amount" not in self.errors:
            raise forms.ValidationError(
                _("Give the number of the last invoice or the amount of the last settlement."), code="proof_missing"
            )
        cleaned["invoice_number"] = invoice_number or None
        return cleaned


class RegistrationForm(CustomerProofForm):
    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = PhoneNumberField(
        label=_("Phone (optional)"),
        required=False,
        region="PL",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    accept_terms = forms.BooleanField(label=_("I accept the portal's terms and agree to their provisions"))
    accept_data_processing = forms.BooleanField(label=_("I agree to the processing of my data"))
    einvoice = forms.BooleanField(label=_("I agree to receive e-invoices"), required=False)

    def __init__(self, *args, remote_ip: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if settings.IBOK_RECAPTCHA_ENABLED:
            self.fields["captcha"] = CaptchaField(label=_("I am not a robot"), widget=CaptchaWidget)
            self.fields["captcha"].remote_ip = remote_ip


class SetPasswordForm(forms.Form):
    """A new password checked by every validator (the utility's rule and Django's); the rules are shown beside it."""

    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            try:
                password_validation.validate_password(password1, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class TermsAcceptForm(forms.Form):
    accept = forms.BooleanField(label=_("I accept the new terms"))


class ContactForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), label=_("Customer number"), empty_label=None)
    street = forms.CharField(
        label=_("Street"), max_length=128, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    building = forms.CharField(label=_("Building number"), max_length=16)
    apartment = forms.CharField(label=_("Apartment number"), max_length=16, required=False)
    postal_code = forms.RegexField(
        label=_("Postal code"),
        regex=POSTAL_CODE,
        max_length=6,
        error_messages={"invalid": _("Enter the postal code as 00-000.")},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        label=_("City"), max_length=64, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    phone = PhoneNumberField(
        label=_("Phone"),
        required=False,
        region="PL",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["customer"].label_from_instance = lambda c: f"{c.number} – {c.name}"


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the portal and e-mails"), choices=settings.LANGUAGES)


class DeletionRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm = forms.BooleanField(label=_("I want my portal account deleted"))
