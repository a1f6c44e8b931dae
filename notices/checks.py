"""System checks: an SMS gateway configured for production."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def sms_backend_configured(app_configs=None, **kwargs) -> list:
    backend = getattr(settings, "IBOK_SMS_BACKEND", "")
    if backend == "notices.sms.SmsApiBackend" and not getattr(settings, "IBOK_SMSAPI_TOKEN", ""):
        return [Error("IBOK_SMS_BACKEND is SMSAPI but IBOK_SMSAPI_TOKEN is empty.", id="notices.E001")]
    if backend == "notices.sms.LocalBackend" and not settings.DEBUG:
        return [
            Warning(
                "SMS are only recorded in the database (notices.sms.LocalBackend), not sent.",
                hint="Set IBOK_SMSAPI_TOKEN (and IBOK_SMS_SENDER) to send them through SMSAPI.",
                id="notices.W001",
            )
        ]
    return []
