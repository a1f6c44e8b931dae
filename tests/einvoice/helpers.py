import re

from django.core import mail

LINK = re.compile(r"https?://[^\s\"]+/einvoice/confirm/([^/\s\"]+)/")


def token_from_mail(index: int = -1) -> str:
    """The token of the confirmation link in an e-mail the portal sent."""
    match = LINK.search(mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.group(1)
