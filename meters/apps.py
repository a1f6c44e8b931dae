from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetersConfig(AppConfig):
    name = "meters"
    verbose_name = _("Meters and readings")

    def ready(self) -> None:
        from meters import checks  # noqa: F401 - registers the system checks
