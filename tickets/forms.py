"""Forms for cases: a new case, a reply, the advanced search and the structured requests."""

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.formfields import PhoneNumberField

from accounts.forms import CaptchaField, CaptchaWidget
from accounts.models import Customer, DeliveryPoint
from accounts.permissions import Scope
from tickets import selectors
from tickets.attachments import AttachmentRejected, check_files, max_bytes, max_count
from tickets.models import FREE_CASE_TYPES, PUBLIC_REPORT_TYPES, AttachmentType, CaseStatus, CaseType

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
DESCRIPTION_MAX = 5000


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content in the form's clean."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _attachments_help() -> str:
    from django.template.defaultfilters import filesizeformat

    return _("PDF, JPG or PNG; at most %(count)d files of up to %(size)s each.") % {
        "count": max_count(),
        "size": filesizeformat(max_bytes()),
    }


class AttachmentsMixin:
    """Adds an optional attachments field checked by content, size and count."""

    already_attached = 0

    def add_attachments_field(self) -> None:
        self.fields["attachments"] = MultipleFileField(
            label=_("Attachments"), required=False, help_text=_attachments_help()
        )

    def clean_attachments(self) -> list:
        uploads = self.cleaned_data.get("attachments") or []
        try:
            check_files(uploads, already_attached=self.already_attached)
        except AttachmentRejected as exc:
            raise ValidationError(str(exc)) from exc
        return uploads


class PointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: DeliveryPoint) -> str:
        return f"{obj.code}, {obj.address} ({_('customer number')} {obj.customer.number})"


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Customer) -> str:
        return f"{obj.number} {obj.name}"


class ScopedForm(AttachmentsMixin, forms.Form):
    """Who the case is for: a customer (asked only when the user acts for several) and a delivery point.

    A manager of only some of a customer's points must name one of them.
    """

    point_required = False

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        customers = list(selectors.customers_for_new_case(scope=scope))
        self.full_customer_ids = selectors.fully_accessible_customer_ids(scope=scope)
        self.only_customer = customers[0] if len(customers) == 1 else None
        fields: dict[str, forms.Field] = {}
        if self.only_customer is None:
            fields["customer"] = CustomerChoiceField(
                label=_("Customer"),
                queryset=selectors.customers_for_new_case(scope=scope),
                required=False,
                help_text=_("Not needed when you choose a delivery point."),
            )
        fields["delivery_point"] = PointChoiceField(
            label=_("Delivery point"),
            queryset=selectors.points_for_new_case(scope=scope),
            required=self.point_required,
            empty_label=_("— not about one delivery point —") if not self.point_required else "---------",
            help_text=_("Choose it when the case concerns one place of supply."),
        )
        # The scope fields come first, in the order of the page.
        self.fields = {**fields, **self.fields}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        point: DeliveryPoint | None = cleaned.get("delivery_point")
        customer: Customer | None = self.only_customer or cleaned.get("customer")
        if point is not None:
            if customer is not None and self.only_customer is None and customer.pk != point.customer_id:
                self.add_error("delivery_point", _("This delivery point belongs to another customer."))
            customer = point.customer
        elif customer is None:
            self.add_error("customer", _("Choose the customer or the delivery point the case is about."))
        elif customer.pk not in self.full_customer_ids:
            self.add_error("delivery_point", _("Choose the delivery point the case is about."))
        cleaned["customer"] = customer
        return cleaned


class CaseForm(ScopedForm):
    case_type = forms.ChoiceField(label=_("Case type"), choices=[(t.value, t.label) for t in FREE_CASE_TYPES])
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 8})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_attachments_field()


class ReplyForm(AttachmentsMixin, forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_attachments_field()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CaseSearchForm(forms.Form):
    """Wyszukiwanie zaawansowane: every field optional; bad values are ignored with an error shown."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", pgettext_lazy("any status", "Any"))] + CaseStatus.choices
    )
    case_type = forms.ChoiceField(
        label=_("Case type"), required=False, choices=[("", pgettext_lazy("any type", "Any"))] + CaseType.choices
    )
    date_from = forms.DateField(label=_("Sent from"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Sent until"), required=False, widget=DateInput)
    text = forms.CharField(
        label=_("Text"), required=False, max_length=200, help_text=_("Case number, subject or message.")
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput, max_length=16)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def search(self) -> selectors.CaseSearch:
        data = self.cleaned_data if self.is_valid() else {}
        sort = data.get("sort") or selectors.DEFAULT_CASE_SORT
        return selectors.CaseSearch(
            status=data.get("status", ""),
            case_type=data.get("case_type", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            text=data.get("text", ""),
            sort=sort,
        )

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(data.get(name) for name in ("status", "case_type", "date_from", "date_to", "text"))


# Structured requests: each opens a case of its type with named fields the office can act on.

postal_code_validator = RegexValidator(r"^\d{2}-\d{3}$", _("Enter the postal code as 00-000."))


class RequestForm(ScopedForm):
    case_type: str = CaseType.OTHER
    title: Any = ""
    intro: Any = ""
    structured: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_attachments_field()

    def subject(self) -> str:
        return str(self.title)

    def structured_fields(self) -> dict[str, Any]:
        values = {}
        for name in self.structured:
            value = self.cleaned_data.get(name)
            if isinstance(value, date):
                value = value.isoformat()
            elif hasattr(value, "pk"):
                value = str(value)
            values[name] = value
        return values

    def description(self) -> str:
        lines = []
        for name in self.structured:
            field = self.fields[name]
            value = self.cleaned_data.get(name)
            if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
                value = dict(field.choices).get(value, value)
            elif isinstance(value, bool):
                value = _("yes") if value else _("no")
            elif isinstance(value, date):
                value = value.strftime("%d.%m.%Y")
            if value not in (None, ""):
                lines.append(f"{field.label}: {value}")
        return "\n".join(lines)


class AddressFieldsMixin(forms.Form):
    street = forms.CharField(label=_("Street"), max_length=128)
    building = forms.CharField(label=_("Building number"), max_length=16)
    apartment = forms.CharField(label=_("Apartment number"), max_length=16, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=6, validators=[postal_code_validator])
    city = forms.CharField(label=_("City"), max_length=64)


class AddressChangeForm(AddressFieldsMixin, RequestForm):
    case_type = CaseType.ADDRESS_CHANGE
    title = _("Change of the address for letters")
    intro = _("The new address for invoices and letters sent by post.")
    structured = ("street", "building", "apartment", "postal_code", "city", "valid_from")

    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)


class ContractChangeForm(RequestForm):
    case_type = CaseType.CONTRACT_CHANGE
    title = _("Change of contract data")
    intro = _("Tell us what changes in your contract; attach the documents that confirm it.")
    structured = ("change", "new_value", "valid_from")

    change = forms.ChoiceField(
        label=_("What changes"),
        choices=[
            ("NAME", _("Name or company name")),
            ("OWNER", _("Owner of the property")),
            ("RESIDENTS", _("Number of residents")),
            ("PURPOSE", _("Use of water or heat")),
            ("OTHER", pgettext_lazy("contract change", "Other")),
        ],
    )
    new_value = forms.CharField(label=_("New data"), max_length=500, widget=forms.Textarea(attrs={"rows": 4}))
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)


class MeterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.serial_number} ({obj.get_kind_display()}), {obj.delivery_point.code}"


class MeterProblemForm(RequestForm):
    case_type = CaseType.METER_PROBLEM
    title = _("Meter problem")
    intro = _("Report a damaged, leaking or unreadable meter, or a broken seal.")
    structured = ("meter", "problem", "details")
    point_required = True

    meter = MeterChoiceField(label=_("Meter"), queryset=None)
    problem = forms.ChoiceField(
        label=_("Problem"),
        choices=[
            ("DAMAGED", _("The meter is damaged")),
            ("LEAK", _("Water leaks at the meter")),
            ("SEAL", _("The seal is broken")),
            ("DISPLAY", _("The display cannot be read")),
            ("STOPPED", _("The meter does not count")),
            ("OTHER", pgettext_lazy("meter problem", "Other")),
        ],
    )
    details = forms.CharField(
        label=_("Details"), max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meter"].queryset = selectors.meters_for_problem(scope=self.scope)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        meter, point = cleaned.get("meter"), cleaned.get("delivery_point")
        if meter is not None and point is not None and meter.delivery_point_id != point.pk:
            self.add_error("meter", _("This meter is not at the chosen delivery point."))
        return cleaned

    def structured_fields(self) -> dict[str, Any]:
        values = super().structured_fields()
        meter = self.cleaned_data["meter"]
        values["meter"] = meter.serial_number
        values["meter_external_id"] = meter.external_id
        return values


# e-Invoice requests (opt in, address change, resignation) have their own flow in the einvoice app, which
# records the consent and opens the case itself; the requests page links there.
REQUEST_FORMS: dict[str, type[RequestForm]] = {
    "address-change": AddressChangeForm,
    "contract-change": ContractChangeForm,
    "meter-problem": MeterProblemForm,
}


class ReportForm(forms.Form):
    """A failure or water-quality report from someone without an account: what, where, a photo, how to answer."""

    case_type = forms.ChoiceField(
        label=_("What are you reporting?"),
        choices=[(kind.value, kind.label) for kind in PUBLIC_REPORT_TYPES],
        widget=forms.RadioSelect,
    )
    location = forms.CharField(
        label=_("Address or delivery point number"),
        max_length=200,
        help_text=_("Street, building and town, or the delivery point number from your invoice."),
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    description = forms.CharField(
        label=_("Description"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_("A JPG or PNG image of up to %(size)s.") % {"size": "10 MB"},
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,image/jpeg,image/png"}),
    )
    email = forms.EmailField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = PhoneNumberField(
        label=_("Phone"),
        required=False,
        region="PL",
        help_text=_("Give an e-mail, a phone or both: the private link to follow your report goes there."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    def __init__(self, *args, remote_ip: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if settings.IBOK_RECAPTCHA_ENABLED:
            self.fields["captcha"] = CaptchaField(label=_("I am not a robot"), widget=CaptchaWidget)
            self.fields["captcha"].remote_ip = remote_ip

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        try:
            [checked] = check_files([photo])
        except AttachmentRejected as exc:
            raise ValidationError(str(exc)) from exc
        if checked.content_type == AttachmentType.PDF:
            raise ValidationError(_("The photo must be a JPG or PNG image."))
        return photo

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and "email" not in self.errors:
            self.add_error("email", _("Give an e-mail address or a phone number, so that we can answer you."))
        return cleaned


class ReportReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
