from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from tickets import receivers  # noqa: F401 - connects the sign-in receivers that claim public reports
