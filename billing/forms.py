from datetime import date
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing import services
from billing.models import InvoiceStatus, RefundMethod
from billing.qr import nrb_is_valid
from core.templatetags.ibok import format_money

MAX_RANGE_DAYS = 366 * 20


def date_input() -> forms.DateInput:
    """The browser's date picker; its value is always ISO, whatever the language."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InvoiceFilterForm(forms.Form):
    """The invoice list's filters; every field optional, bad values are reported, not guessed."""

    issued_from = forms.DateField(label=_("Issued from"), required=False, widget=date_input())
    issued_to = forms.DateField(label=_("Issued to"), required=False, widget=date_input())
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", pgettext_lazy("status filter", "Any"))] + InvoiceStatus.choices
    )
    point = forms.TypedChoiceField(label=_("Delivery point"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, points=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].choices = [("", pgettext_lazy("delivery point filter", "All"))] + [
            (point.pk, f"{point.code}, {point.address_line}, {point.city}") for point in points
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("issued_from"), cleaned.get("issued_to")
        if start and end and start > end:
            self.add_error("issued_to", _("The end of the period must not be before its start."))
        return cleaned


class PeriodForm(forms.Form):
    """The settlements' period (any, inclusive) and, for a user of many customers, which one."""

    date_from = forms.DateField(label=_("From"), widget=date_input())
    date_to = forms.DateField(label=_("To"), widget=date_input())
    customer = forms.TypedChoiceField(label=_("Customer number"), coerce=int, required=False, empty_value=None)
    point = forms.TypedChoiceField(label=_("Delivery point"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, customers=(), points=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [(c.pk, f"{c.number} {c.name}") for c in customers]
        if len(self.fields["customer"].choices) <= 1:
            self.fields["customer"].widget = forms.HiddenInput()
        self.first_customer_id = customers[0].pk if customers else None
        self.point_customer = {point.pk: point.customer_id for point in points}
        self.fields["point"].choices = [("", pgettext_lazy("delivery point filter", "All"))] + [
            (point.pk, f"{point.code}, {point.address_line}, {point.city}") for point in points
        ]

    def clean(self):
        cleaned = super().clean()
        point, customer = cleaned.get("point"), cleaned.get("customer") or self.first_customer_id
        if point is not None and self.point_customer.get(point) != customer:
            self.add_error("point", _("Choose a delivery point of the chosen customer number."))
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if start > end:
                self.add_error("date_to", _("The end of the period must not be before its start."))
            elif (end - start).days > MAX_RANGE_DAYS:
                self.add_error("date_from", _("Choose a period of at most twenty years."))
        return cleaned


class OnlinePaymentForm(forms.Form):
    """Which invoices to pay (or what amount), for which customer."""

    invoices = forms.TypedMultipleChoiceField(
        label=_("Invoices to pay"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    customer = forms.TypedChoiceField(label=_("Customer number"), coerce=int, required=False, empty_value=None)
    amount = forms.DecimalField(
        label=_("Or enter another amount"),
        required=False,
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("1.00"),
        localize=True,
        help_text=_("For example a part of your debt. Leave the invoices unticked."),
    )

    def __init__(self, *args, payable=(), customers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.payable = {invoice.pk: invoice for invoice in payable}
        self.customers = {customer.pk: customer for customer in customers}
        self.fields["invoices"].choices = [(pk, invoice.number) for pk, invoice in self.payable.items()]
        self.fields["customer"].choices = [(c.pk, f"{c.number} {c.name}") for c in customers]
        if len(self.customers) <= 1:
            self.fields["customer"].widget = forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        chosen = [self.payable[pk] for pk in cleaned.get("invoices") or []]
        amount = cleaned.get("amount")
        if chosen and amount:
            raise forms.ValidationError(_("Either tick invoices or enter an amount, not both."))
        if not chosen and not amount:
            raise forms.ValidationError(_("Choose at least one invoice or enter the amount to pay."))
        if chosen:
            customer_ids = {invoice.customer_id for invoice in chosen}
            if len(customer_ids) > 1:
                raise forms.ValidationError(_("Choose invoices of one customer number at a time."))
            cleaned["customer_obj"] = chosen[0].customer
        else:
            customer_id = cleaned.get("customer") or (next(iter(self.customers)) if len(self.customers) == 1 else None)
            if customer_id not in self.customers:
                self.add_error("customer", _("Choose the customer number you pay for."))
                return cleaned
            cleaned["customer_obj"] = self.customers[customer_id]
        cleaned["invoice_objs"] = chosen
        return cleaned


def default_period(today: date) -> tuple[date, date]:
    """The settlements open on the last twelve months."""
    start = date(today.year - 1, today.month, 1)
    return start, today


class ForecastForm(forms.Form):
    """The forecast's "what if": a changed monthly payment, a planned reading of a meter. Every field optional."""

    customer = forms.TypedChoiceField(label=_("Customer"), required=False, coerce=int, empty_value=None)
    monthly_payment = forms.DecimalField(
        label=_("Monthly payment"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100000),
        decimal_places=2,
        help_text=_("What you plan to pay each month, in PLN. Empty: your average of the last twelve months."),
    )
    meter = forms.TypedChoiceField(label=_("Meter"), required=False, coerce=int, empty_value=None)
    planned_value = forms.DecimalField(
        label=_("Planned reading"), required=False, min_value=Decimal(0), max_digits=12, decimal_places=3
    )
    planned_on = forms.DateField(label=_("On the day"), required=False, widget=date_input())

    def __init__(self, *args, customers=(), meters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [
            (customer.pk, f"{customer.number} {customer.name}") for customer in customers
        ]
        self.fields["meter"].choices = [("", pgettext_lazy("meter choice", "None"))] + [
            (meter.pk, f"{meter.serial_number} ({meter.get_medium_display()})") for meter in meters
        ]
        self.last_readings = {}  # meter id -> (value, date), given by the view for the check below

    def clean(self):
        cleaned = super().clean()
        meter, value, on = cleaned.get("meter"), cleaned.get("planned_value"), cleaned.get("planned_on")
        if meter is None and (value is not None or on is not None) and not self.errors:
            self.add_error("meter", _("Choose the meter of the planned reading."))
        elif meter is not None and (value is None or on is None) and not self.errors:
            self.add_error("planned_value", _("Give the planned reading and its day."))
        elif meter is not None and value is not None and on is not None:
            last = self.last_readings.get(meter)
            if last is None:
                self.add_error("meter", _("This meter has no confirmed reading to plan from."))
            elif on <= last[1]:
                self.add_error(
                    "planned_on",
                    _("The planned reading must be after the last reading (%(day)s).")
                    % {"day": last[1].strftime("%d.%m.%Y")},
                )
            elif value < last[0]:
                self.add_error("planned_value", _("The planned reading must not be below the last reading."))
        return cleaned


class PaymentPlanForm(forms.Form):
    """Which overdue invoices to spread and into how many instalments, within the utility's limits."""

    invoices = forms.TypedMultipleChoiceField(
        label=_("Overdue invoices"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    instalments = forms.TypedChoiceField(label=_("Number of instalments"), coerce=int)

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice_by_id = {invoice.pk: invoice for invoice in invoices}
        self.fields["invoices"].choices = [
            (invoice.pk, f"{invoice.number}, {invoice.due_date:%d.%m.%Y}, {format_money(invoice.outstanding)}")
            for invoice in invoices
        ]
        self.fields["invoices"].error_messages["required"] = _("Choose at least one overdue invoice.")
        low, high = settings.IBOK_PAYMENT_PLAN_MIN_INSTALMENTS, settings.IBOK_PAYMENT_PLAN_MAX_INSTALMENTS
        self.fields["instalments"].choices = [(n, str(n)) for n in range(low, high + 1)]
        self.fields["instalments"].error_messages["invalid_choice"] = _(
            "Choose between %(low)d and %(high)d instalments."
        ) % {"low": low, "high": high}

    def clean(self):
        cleaned = super().clean()
        chosen, instalments = cleaned.get("invoices"), cleaned.get("instalments")
        if chosen and instalments:
            cleaned["chosen"] = [self.invoice_by_id[pk] for pk in chosen]
            cleaned["total"] = sum((invoice.outstanding for invoice in cleaned["chosen"]), Decimal("0.00"))
            try:
                services.payment_plan_check(total=cleaned["total"], instalments=instalments)
            except services.PaymentPlanRejected as exc:
                self.add_error("instalments", str(exc))
        return cleaned


class RefundForm(forms.Form):
    """How the customer wants their overpayment back; the account number only for a transfer."""

    customer = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    method = forms.ChoiceField(
        label=_("How do you want the overpayment back?"),
        choices=RefundMethod.choices,
        initial=RefundMethod.BANK_TRANSFER,
        widget=forms.RadioSelect,
    )
    bank_account = forms.CharField(
        label=_("Bank account number"),
        required=False,
        max_length=40,
        help_text=_("26 digits of a Polish account (NRB); spaces are fine."),
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers

    def clean_bank_account(self) -> str:
        value = self.cleaned_data["bank_account"]
        digits = "".join(value.split()).upper().removeprefix("PL")
        return digits

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("method") == RefundMethod.BANK_TRANSFER:
            account = cleaned.get("bank_account", "")
            if not account:
                self.add_error("bank_account", _("Enter the account number for the transfer."))
            elif not nrb_is_valid(account):
                self.add_error("bank_account", _("Enter a valid Polish bank account number (26 digits)."))
        return cleaned
