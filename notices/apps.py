from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notifications, announcements and documents")

    def ready(self) -> None:
        from accounts import signals as account_signals
        from billing import signals as billing_signals
        from notices import checks, receivers  # noqa: F401 - checks register themselves

        # A committed import chunk brought invoices: tell the customers who asked (e-powiadomienie Faktura).
        billing_signals.invoices_imported.connect(
            receivers.new_invoices_notify, dispatch_uid="notices.new_invoices_notify"
        )
        # An account deletion carried out: the notifications sent to it and its phone verifications go too.
        account_signals.account_erasing.connect(receivers.account_erasing, dispatch_uid="notices.account_erasing")
