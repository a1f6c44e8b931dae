"""Forms of the pages that combine apps: the property manager's overview filters."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.selectors import OVERVIEW_SORTS, OverviewQuery

SORT_LABELS = {
    "number": _("Customer number"),
    "name": _("Name"),
    "balance": _("Balance"),
    "overdue": _("Overdue"),
    "next_due": _("Next due date"),
    "cases": _("Open cases"),
    "legalizations": _("Legalizations ending"),
}


class OverviewFilterForm(forms.Form):
    """Search, show only some customers, and sort; a bad value is reported, never guessed."""

    q = forms.CharField(
        label=_("Customer number, name, address or delivery point"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", pgettext_lazy("overview filter", "All customers")),
            ("overdue", _("Only with overdue payments")),
            ("to_pay", _("Only with something to pay")),
            ("cases", _("Only with open cases")),
            ("legalizations", _("Only with legalizations ending")),
        ],
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        for key in OVERVIEW_SORTS:
            choices.append((key, _("%(field)s, ascending") % {"field": SORT_LABELS[key]}))
            choices.append((f"-{key}", _("%(field)s, descending") % {"field": SORT_LABELS[key]}))
        self.fields["sort"].choices = choices

    def overview_query(self) -> OverviewQuery:
        data = self.cleaned_data if self.is_valid() else {}
        return OverviewQuery(search=data.get("q") or "", show=data.get("show") or "", sort=data.get("sort") or "number")


class ManagerPayForm(forms.Form):
    """Invoices of one or more customers to pay online; they are grouped into one payment per customer."""

    invoices = forms.TypedMultipleChoiceField(
        label=_("Invoices to pay"), required=True, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, payable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.payable = {invoice.pk: invoice for invoice in payable}
        self.fields["invoices"].choices = [(pk, invoice.number) for pk, invoice in self.payable.items()]
        self.fields["invoices"].error_messages = {
            "required": _("Choose at least one invoice."),
            "invalid_choice": _("One of the chosen invoices cannot be paid now. Reload the page and choose again."),
        }

    def clean(self):
        cleaned = super().clean()
        groups: dict[int, tuple] = {}
        for pk in cleaned.get("invoices") or []:
            invoice = self.payable[pk]
            groups.setdefault(invoice.customer_id, (invoice.customer, []))[1].append(invoice)
        cleaned["groups"] = list(groups.values())
        return cleaned
