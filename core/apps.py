from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    label = "core"
    verbose_name = "iBOK"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the deploy checks
