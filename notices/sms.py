"""SMS backends, chosen with IBOK_SMS_BACKEND: SMSAPI (smsapi.pl) in production, a local recorder elsewhere."""

from django.conf import settings
from django.utils.module_loading import import_string

from notices.models import LocalSms


class SmsSendFailed(Exception):
    """The gateway did not accept the message; worth trying again later."""


class SmsRejected(Exception):
    """The gateway refused the message for good (e.g. an invalid number); trying again will not help."""


class SmsBackend:
    def send(self, *, phone: str, text: str, reference: str) -> str:
        """Send one SMS; return the gateway's message id. reference makes a repeated send a no-op there."""
        raise NotImplementedError


class LocalBackend(SmsBackend):
    """Development and tests: record the message in a table (admin: SMS recorded locally) instead of sending."""

    def send(self, *, phone: str, text: str, reference: str) -> str:
        sms = LocalSms.objects.create(phone=phone, text=text, reference=reference)
        return f"local-{sms.pk}"


class SmsApiBackend(SmsBackend):
    """SMSAPI.pl through its official client, authenticated with an OAuth token (IBOK_SMSAPI_TOKEN).

    The reference goes as `idx` with `check_idx`, so SMSAPI refuses a second message with the same reference:
    a send repeated after a crash between the gateway's answer and our record does not reach the phone twice.
    Polish letters are normalized to plain ones, which keeps a message within one 160-character part.
    """

    def __init__(self) -> None:
        from smsapi.client import SmsApiPlClient

        self.client = SmsApiPlClient(access_token=settings.IBOK_SMSAPI_TOKEN)

    def send(self, *, phone: str, text: str, reference: str) -> str:
        from smsapi.exception import ClientException, EndpointException, SendException

        params = {"to": phone.lstrip("+"), "message": text, "idx": reference, "check_idx": True, "normalize": True}
        if getattr(settings, "IBOK_SMS_SENDER", ""):
            params["from_"] = settings.IBOK_SMS_SENDER
        try:
            result = self.client.sms.send(**params)
        except SendException as exc:
            # 13: no valid recipient, 11: message too long or empty, 105: duplicate idx (already sent).
            if str(exc.code) == "105":
                return f"duplicate-{reference}"
            if str(exc.code) in {"11", "13", "14"}:
                raise SmsRejected(f"SMSAPI {exc.code}: {exc.message}") from exc
            raise SmsSendFailed(f"SMSAPI {exc.code}: {exc.message}") from exc
        except (EndpointException, ClientException, OSError) as exc:
            raise SmsSendFailed(f"SMSAPI: {exc}") from exc
        first = next(iter(result), None)
        return str(getattr(first, "id", "") or "")


def backend() -> SmsBackend:
    return import_string(settings.IBOK_SMS_BACKEND)()


def send(*, phone: str, text: str, reference: str) -> str:
    """Send through the configured backend. Raises SmsSendFailed (retry) or SmsRejected (give up)."""
    return backend().send(phone=phone, text=text, reference=reference)
