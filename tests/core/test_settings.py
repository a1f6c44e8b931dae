"""Production settings: secure by default, and no working secret without DEBUG."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "DJANGO_SETTINGS_MODULE": "ibok.settings",
    "DJANGO_SECRET_KEY": "Zq8#mL2!vR9@xT4$wN7%kP1^hB6&jD3*cF5(gH0)sA-yE_uI+oK=lM",
    "DJANGO_ALLOWED_HOSTS": "ibok.example.pl",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "RECAPTCHA_PUBLIC_KEY": "production-public-key",
    "RECAPTCHA_PRIVATE_KEY": "production-private-key",
    "IBOK_SMSAPI_TOKEN": "production-smsapi-token",
    "IBOK_PORTAL_URL": "https://ibok.example.pl",
    "IBOK_OUTBOX_SECRET": "a-secret-shared-with-the-billing-system-0123456789",
    "IBOK_MFA_ENCRYPTION_KEYS": "Qy3Jb2gP6yH0m0V4m6mWcT2P8kZ3o9q1a7c5e3g1i0s=",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_debug_a_missing_secret_key_stops_the_start():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_responses_carry_a_content_security_policy_without_inline_script(client):
    response = client.get("/account/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_production_without_an_sms_token_is_refused_by_the_deploy_check():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "IBOK_SMSAPI_TOKEN"}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "IBOK_SMSAPI_TOKEN" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("IBOK_PORTAL_URL", None, "core.E001"),
        ("IBOK_PORTAL_URL", "http://ibok.example.pl", "core.E001"),
        ("IBOK_OUTBOX_SECRET", None, "core.E002"),
        ("IBOK_OUTBOX_SECRET", "short", "core.E002"),
    ],
)
def test_production_without_the_public_address_or_the_outbox_secret_is_refused(name, value, check_id):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    if value is not None:
        env[name] = value

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert check_id in result.stdout + result.stderr
