"""SMS gateways for tests, chosen with IBOK_SMS_BACKEND (also in a worker process, through its environment)."""

import os
import time

from notices import sms


class DownGateway(sms.SmsBackend):
    """Answers every message with a server error; notes the moment of each attempt in GATEWAY_LOG."""

    def send(self, *, phone: str, text: str, reference: str) -> str:
        log = os.environ.get("GATEWAY_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{time.time()} {reference}\n")
        raise sms.SmsSendFailed("SMSAPI: 503 Service Unavailable")


class RefusingGateway(sms.SmsBackend):
    def send(self, *, phone: str, text: str, reference: str) -> str:
        raise sms.SmsRejected("SMSAPI 13: no valid recipient")
