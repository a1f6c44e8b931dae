"""Encrypt second-factor secrets still stored in the clear; --rotate re-encrypts all under the first key."""

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand

from accounts import mfa


class Command(BaseCommand):
    help = "Encrypt TOTP secrets and recovery-code seeds at rest (IBOK_MFA_ENCRYPTION_KEYS); --rotate after a new key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rotate", action="store_true", help="re-encrypt every secret under the first key")

    def handle(self, *args, rotate: bool = False, **options) -> None:
        changed = mfa.secrets_encrypt(Authenticator, rotate=rotate)
        self.stdout.write(f"{changed} authenticator(s) re-encrypted.")
