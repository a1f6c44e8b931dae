"""TOTP secrets and recovery-code seeds are encrypted at rest, with rotatable keys from the environment."""

import importlib

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command

from accounts import mfa
from tests import factories
from tests.accounts.test_login import _totp_code
from tests.core.test_settings import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def user():
    return factories.UserFactory()


def test_an_activated_totp_secret_is_stored_encrypted_and_still_works(settings, user):
    settings.IBOK_MFA_ENCRYPTION_KEYS = [OLD_KEY]
    secret = generate_totp_secret()

    totp = TOTP.activate(user, secret)

    stored = Authenticator.objects.get(pk=totp.instance.pk).data["secret"]
    assert secret not in stored
    assert stored.startswith(mfa.PREFIX)
    assert mfa.decrypt_text(stored) == secret
    assert TOTP(Authenticator.objects.get(pk=totp.instance.pk)).validate_code(_totp_code(secret))


def test_recovery_codes_seed_is_encrypted_too(settings, user):
    settings.IBOK_MFA_ENCRYPTION_KEYS = [OLD_KEY]

    codes = RecoveryCodes.activate(user)

    assert Authenticator.objects.get(pk=codes.instance.pk).data["seed"].startswith(mfa.PREFIX)
    assert len(codes.get_unused_codes()) > 0


def test_the_migration_encrypts_secrets_stored_in_the_clear(settings, user):
    settings.IBOK_MFA_ENCRYPTION_KEYS = [OLD_KEY]
    plain = Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    migration = importlib.import_module("accounts.migrations.0005_mfa_secrets_encrypted")

    migration.encrypt_existing(apps, None)

    plain.refresh_from_db()
    assert plain.data["secret"].startswith(mfa.PREFIX)
    assert mfa.decrypt_text(plain.data["secret"]) == "JBSWY3DPEHPK3PXP"


def test_a_secret_in_the_clear_is_refused_not_used(settings):
    settings.IBOK_MFA_ENCRYPTION_KEYS = [OLD_KEY]

    with pytest.raises(mfa.SecretUnreadable):
        mfa.decrypt_text("JBSWY3DPEHPK3PXP")


def test_a_new_key_takes_over_after_rotation_and_the_old_one_can_go(settings, user):
    settings.IBOK_MFA_ENCRYPTION_KEYS = [OLD_KEY]
    totp = TOTP.activate(user, "JBSWY3DPEHPK3PXP")
    settings.IBOK_MFA_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(mfa.SecretUnreadable):  # the new key alone cannot read what the old one wrote
        mfa.decrypt_text(Authenticator.objects.get(pk=totp.instance.pk).data["secret"])

    settings.IBOK_MFA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("mfa_secrets", "--rotate", stdout=None)
    settings.IBOK_MFA_ENCRYPTION_KEYS = [NEW_KEY]

    assert mfa.decrypt_text(Authenticator.objects.get(pk=totp.instance.pk).data["secret"]) == "JBSWY3DPEHPK3PXP"


def test_production_without_a_key_for_the_secrets_is_refused_by_the_deploy_check():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "IBOK_MFA_ENCRYPTION_KEYS"}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "accounts.E002" in result.stdout + result.stderr
