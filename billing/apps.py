from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from getpaid.registry import registry

        from billing.payments.przelewy24 import PaymentProcessor

        if PaymentProcessor.slug not in registry:
            registry.register(PaymentProcessor)

        from accounts.proofs import register_proof_checker
        from billing.selectors import last_invoice_matches

        register_proof_checker(last_invoice_matches)  # registration proof: the last invoice's number or amount

        from accounts import signals as account_signals
        from billing import receivers
        from billing.sync import runner
        from meters import services as meter_services

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

        from billing.models import SyncRun

        for signal in (post_save, post_delete):
            signal.connect(
                receivers.sync_run_changed, sender=SyncRun, dispatch_uid=f"billing.sync_run_changed.{signal}"
            )
        # After every sync: a self-reading the billing system has now booked stops showing as pending.
        if meter_services.self_readings_confirm not in runner.AFTER_SYNC_HOOKS:
            runner.AFTER_SYNC_HOOKS.append(meter_services.self_readings_confirm)
