from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from getpaid.registry import registry

        from billing import checks  # noqa: F401 - registers the system checks
        from billing.payments import przelewy24, sandbox

        if przelewy24.PaymentProcessor.slug not in registry:
            registry.register(przelewy24.PaymentProcessor)
        # The bundled sandbox broker speaks Przelewy24's protocol; only the setting `transport` picks it.
        przelewy24.TRANSPORTS.setdefault("sandbox", sandbox.SandboxTransport)

        from accounts.proofs import register_proof_checker
        from billing.selectors import last_invoice_matches

        register_proof_checker(last_invoice_matches)  # registration proof: the last invoice's number or amount

        from accounts import signals as account_signals
        from billing import receivers

        # The account was just activated (the signal fires after commit): bring that customer's data in now.
        account_signals.account_activated.connect(
            receivers.customers_refresh_after_activation, dispatch_uid="billing.customers_refresh_after_activation"
        )
        # An account deletion: carried out at once only when nothing is owed; invoices and payments kept (tax law).
        account_signals.account_deletion_blockers.connect(
            receivers.account_deletion_blockers, dispatch_uid="billing.account_deletion_blockers"
        )
        account_signals.account_erasing.connect(receivers.account_erasing, dispatch_uid="billing.account_erasing")
        from django.db.models.signals import post_delete, post_save

        from billing import versions
        from billing.models import SyncRun

        for signal in (post_save, post_delete):
            signal.connect(
                receivers.sync_run_changed, sender=SyncRun, dispatch_uid=f"billing.sync_run_changed.{signal}"
            )
        # A synced row saved one at a time (the admin, a shell; the sync writes in bulk and bumps itself): its
        # customer's data version moves in the same transaction. Not on deletion: a receiver there would make
        # Django load every row the sync deletes in bulk.
        for model in versions.SYNCED_MODELS:
            post_save.connect(receivers.synced_row_changed, sender=model, dispatch_uid=f"billing.saved.{model}")
