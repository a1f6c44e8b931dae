from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Customers and accounts")

    def ready(self) -> None:
        from accounts import checks, receivers  # noqa: F401 - connects the auth signal receivers, registers checks
