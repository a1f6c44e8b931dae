"""System checks: the SMS gateway's credentials when SMSAPI is chosen.

Without IBOK_SMSAPI_TOKEN the local backend only records SMS (admin: SMS recorded locally); that is the
development default and also a valid e-mail-only production setup, so it raises nothing here.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility, deploy=True)
def sms_backend_configured(app_configs=None, **kwargs) -> list:
    backend = getattr(settings, "IBOK_SMS_BACKEND", "")
    if backend == "notices.sms.SmsApiBackend" and not getattr(settings, "IBOK_SMSAPI_TOKEN", ""):
        return [Error("IBOK_SMS_BACKEND is SMSAPI but IBOK_SMSAPI_TOKEN is empty.", id="notices.E001")]
    return []
