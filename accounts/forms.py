from decimal import Decimal

from allauth.mfa.webauthn.forms import AddWebAuthnForm
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_recaptcha.fields import ReCaptchaField
from django_recaptcha.widgets import ReCaptchaV2Checkbox
from phonenumber_field.formfields import PhoneNumberField
from stdnum.pl import nip

from accounts.models import Customer, User
from core import uploads

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
    )
    amount = forms.DecimalField(
        label=_("Or: gross amount of the last settlement (tenants of a housing community)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        localize=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Examples in the utility's invoice number format and the reader's decimal separator.
        self.fields["invoice_number"].help_text = gettext("As printed on the invoice, for example %(example)s.") % {
            "example": settings.IBOK_INVOICE_NUMBER_EXAMPLE
        }
        self.fields["amount"].help_text = gettext("In złoty, for example %(example)s.") % {
            "example": number_format(Decimal("184.32"), 2)
        }

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

    def __init__(self, *args, first_time: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if first_time:  # nothing was accepted before: not "new" terms
            self.fields["accept"].label = _("I accept the portal's terms and agree to their provisions")


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


MANAGER_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
MANAGER_PROPERTIES_MAX_LINES = 1000


def pdf_checked(upload) -> None:
    """Raise ValidationError unless the upload is a complete PDF (by its content, not its name) of sane size."""
    if upload.size is None or upload.size == 0:
        raise forms.ValidationError(_("The file is empty."))
    if upload.size > MANAGER_DOCUMENT_MAX_BYTES:
        raise forms.ValidationError(_("The file is too big: at most 10 MB is allowed."))
    if uploads.sniff(upload) != uploads.PDF:
        raise forms.ValidationError(_("The file is not a PDF document."))
    if not uploads.is_complete_pdf(upload):
        raise forms.ValidationError(_("The file is damaged or not a complete PDF document."))
    try:
        uploads.virus_scan(upload)
    except (uploads.VirusFound, uploads.ScannerUnavailable) as exc:
        raise forms.ValidationError(uploads.virus_message(exc, name=upload.name or "")) from exc


class ManagerRequestForm(forms.Form):
    """A property manager asks for access (seed 003: company name and the list of managed properties)."""

    company_name = forms.CharField(
        label=_("Full company name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "organization"})
    )
    nip = forms.CharField(
        label="NIP",
        max_length=20,
        help_text=_("The company's tax identification number, 10 digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    contact_name = forms.CharField(
        label=_("Contact person"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("Your login: the access will be granted to the account with this e-mail."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = PhoneNumberField(
        label=_("Phone (optional)"),
        required=False,
        region="PL",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    properties = forms.CharField(
        label=_("Managed properties"),
        help_text=_("One per line: the address of the property or the customer number (Nr odbiorcy) of its owner."),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=50000,
    )
    document = forms.FileField(
        label=_("Authorisation document (optional)"),
        required=False,
        help_text=_("A PDF file of up to 10 MB, e.g. the management contract or a power of attorney."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )

    def __init__(self, *args, remote_ip: str | None = None, with_captcha: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_captcha and settings.IBOK_RECAPTCHA_ENABLED:
            self.fields["captcha"] = CaptchaField(label=_("I am not a robot"), widget=CaptchaWidget)
            self.fields["captcha"].remote_ip = remote_ip

    def clean_nip(self) -> str:
        value = self.cleaned_data["nip"]
        if not nip.is_valid(value):
            raise forms.ValidationError(_("This is not a valid NIP. Check the 10 digits."))
        return nip.compact(value)

    def clean_properties(self) -> str:
        lines = [" ".join(line.split()) for line in self.cleaned_data["properties"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise forms.ValidationError(_("List at least one property."))
        if len(lines) > MANAGER_PROPERTIES_MAX_LINES:
            raise forms.ValidationError(_("List at most 1000 properties; send the rest in another request."))
        return "\n".join(lines)

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if upload:
            pdf_checked(upload)
        return upload or None


def _lines(value: str) -> list[str]:
    return list(dict.fromkeys("".join(line.split()) for line in value.splitlines() if line.strip()))


class ManagerGrantForm(forms.Form):
    """Staff grant a manager access to customers: all their delivery points, or the listed ones."""

    ALL, SOME = "all", "some"

    customer_numbers = forms.CharField(
        label=_("Customer numbers"),
        help_text=_("One per line."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=[(ALL, _("All delivery points")), (SOME, _("Only the delivery points listed below"))],
        initial=ALL,
        widget=forms.RadioSelect,
    )
    point_codes = forms.CharField(
        label=_("Delivery point numbers"),
        required=False,
        help_text=_("One per line; each must belong to one of the customers above, and each customer needs one."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args, customers_by_numbers, points_by_codes, **kwargs):
        super().__init__(*args, **kwargs)
        self._customers_by_numbers = customers_by_numbers
        self._points_by_codes = points_by_codes

    def clean(self):
        cleaned = super().clean()
        numbers = _lines(cleaned.get("customer_numbers") or "")
        if not numbers:
            return cleaned
        customers = self._customers_by_numbers(numbers=numbers)
        unknown = [n for n in numbers if n not in customers]
        if unknown:
            self.add_error("customer_numbers", _("Unknown customer numbers: %(list)s") % {"list": ", ".join(unknown)})
            return cleaned
        grants = []
        if cleaned.get("scope") == self.SOME:
            codes = _lines(cleaned.get("point_codes") or "")
            points = self._points_by_codes(codes=codes)
            unknown = [c for c in codes if c not in points]
            if not codes:
                self.add_error("point_codes", _("List the delivery points, or grant all of them."))
                return cleaned
            if unknown:
                self.add_error("point_codes", _("Unknown delivery points: %(list)s") % {"list": ", ".join(unknown)})
                return cleaned
            ids = {customers[n].pk for n in numbers}
            foreign = [c for c in codes if points[c].customer_id not in ids]
            if foreign:
                self.add_error(
                    "point_codes",
                    _("These delivery points belong to none of the customers above: %(list)s")
                    % {"list": ", ".join(foreign)},
                )
                return cleaned
            for number in numbers:
                chosen = [p for p in points.values() if p.customer_id == customers[number].pk]
                if not chosen:
                    self.add_error(
                        "point_codes", _("No delivery point listed for customer %(number)s.") % {"number": number}
                    )
                    return cleaned
                grants.append((customers[number], False, chosen))
        else:
            grants = [(customers[n], True, []) for n in numbers]
        cleaned["grants"] = grants
        return cleaned


class PasskeyAddForm(AddWebAuthnForm):
    """allauth's form for a new security key, "passwordless" ticked: a passkey the customer can sign in with alone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "passwordless" in self.fields:
            self.fields["passwordless"].initial = True
