from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EinvoiceConfig(AppConfig):
    name = "einvoice"
    verbose_name = _("e-Invoice")

    def ready(self) -> None:
        from accounts import signals as account_signals
        from billing import signals as billing_signals
        from einvoice import receivers

        billing_signals.invoices_imported.connect(
            receivers.invoices_imported, dispatch_uid="einvoice.invoices_imported"
        )
        account_signals.einvoice_requested_at_registration.connect(
            receivers.einvoice_requested_at_registration, dispatch_uid="einvoice.requested_at_registration"
        )
