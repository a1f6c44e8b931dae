"""Production needs real reCAPTCHA keys while the CAPTCHA is on."""

from accounts.checks import recaptcha_keys_present


def test_deploy_check_fails_with_the_captcha_on_and_no_keys(settings):
    settings.IBOK_RECAPTCHA_ENABLED = True
    settings.RECAPTCHA_PUBLIC_KEY = ""
    settings.RECAPTCHA_PRIVATE_KEY = ""

    assert [error.id for error in recaptcha_keys_present(None)] == ["accounts.E001"]


def test_deploy_check_passes_with_keys_or_with_the_captcha_off(settings):
    settings.IBOK_RECAPTCHA_ENABLED = True
    settings.RECAPTCHA_PUBLIC_KEY = "site-key"
    settings.RECAPTCHA_PRIVATE_KEY = "secret-key"
    with_keys = recaptcha_keys_present(None)
    settings.IBOK_RECAPTCHA_ENABLED = False
    settings.RECAPTCHA_PUBLIC_KEY = ""

    assert with_keys == []
    assert recaptcha_keys_present(None) == []
