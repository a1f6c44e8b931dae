"""The words django-getpaid shows in the admin, so that makemessages puts them in the portal's catalogs: the
library marks them for translation and ships no catalog of its own. Never imported; read by makemessages only."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

BROKER_WORDS = (
    _("order"),
    _("amount required"),
    _("Amount required to fulfill the payment; in selected currency, normal notation"),
    _("currency"),
    _("backend"),
    _("created on"),
    _("paid on"),
    _("amount locked"),
    _("Amount locked with this payment, ready to charge."),
    _("amount paid"),
    _("Amount actually paid."),
    _("refunded on"),
    _("amount refunded"),
    _("external id"),
    _("description"),
    _("fraud status"),
    _("fraud message"),
    _("provider data"),
    _("Non-failed Payments exist for this Order."),
    pgettext_lazy("payment status", "new"),
    pgettext_lazy("payment status", "in progress"),
    pgettext_lazy("payment status", "pre-authed"),
    pgettext_lazy("payment status", "charge process started"),
    pgettext_lazy("payment status", "partially paid"),
    pgettext_lazy("payment status", "paid"),
    pgettext_lazy("payment status", "failed"),
    pgettext_lazy("payment status", "refund started"),
    pgettext_lazy("payment status", "refunded"),
    pgettext_lazy("payment status", "cancelled"),
    pgettext_lazy("fraud status", "unknown"),
    pgettext_lazy("fraud status", "accepted"),
    pgettext_lazy("fraud status", "rejected"),
    pgettext_lazy("fraud status", "needs manual verification"),
    # allauth.mfa's kinds of second factor that its Polish catalog leaves in English
    _("WebAuthn"),
)
