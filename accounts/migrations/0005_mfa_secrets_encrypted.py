"""Encrypt the TOTP secrets and recovery-code seeds stored in the clear before accounts/mfa.py existed."""

from django.db import migrations


def encrypt_existing(apps, schema_editor):
    from accounts import mfa

    mfa.secrets_encrypt(apps.get_model("mfa", "Authenticator"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_consent_text_hash_and_browser"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
