"""Start-up checks: a reading window that cannot be read stops the portal before a customer meets it."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from meters.window import reading_window


@checks.register(checks.Tags.compatibility)
def reading_window_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    try:
        reading_window()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint='For example "L10,1-5" or "20-31,1-5".', id="meters.E001")]
    return []
