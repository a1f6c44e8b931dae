from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ibok.core"
    label = "core"
    verbose_name = "iBOK"
