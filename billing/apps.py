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
