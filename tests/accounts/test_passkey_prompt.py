"""The dashboard offers a passkey until the customer adds one or says "not now"; the add form makes a passkey."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db

OFFER = "Sign in faster with a passkey"


@pytest.fixture
def english(client, customer_user):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    factories.sign_in_recently(client, customer_user)
    return client


def test_the_dashboard_offers_a_passkey_after_signing_in(english):
    html = english.get(reverse("pages:dashboard")).content.decode()

    assert OFFER in html
    assert reverse("mfa_add_webauthn") in html
    assert reverse("accounts:passkey-prompt-dismiss") in html


def test_not_now_closes_the_offer_for_good(english, customer_user):
    response = english.post(reverse("accounts:passkey-prompt-dismiss"))

    assert response.status_code == 302 and response["Location"] == reverse("pages:dashboard")
    assert User.objects.get(pk=customer_user.pk).passkey_prompt_closed_at is not None
    assert OFFER not in english.get(reverse("pages:dashboard")).content.decode()
    assert reverse("mfa_add_webauthn") in english.get(reverse("accounts:settings")).content.decode()


def test_adding_a_passkey_closes_the_offer_and_a_totp_does_not(english, customer_user, rf):
    totp = Authenticator.objects.create(user=customer_user, type=Authenticator.Type.TOTP, data={})
    authenticator_added.send(sender=Authenticator, request=rf.get("/"), user=customer_user, authenticator=totp)
    assert OFFER in english.get(reverse("pages:dashboard")).content.decode()

    passkey = Authenticator.objects.create(user=customer_user, type=Authenticator.Type.WEBAUTHN, data={})
    authenticator_added.send(sender=Authenticator, request=rf.get("/"), user=customer_user, authenticator=passkey)

    assert OFFER not in english.get(reverse("pages:dashboard")).content.decode()


def test_the_add_form_makes_a_passkey_that_signs_in_alone_by_default(english):
    response = english.get(reverse("mfa_add_webauthn"))

    assert response.status_code == 200
    field = response.context["form"].fields["passwordless"]
    assert field.initial is True
    assert 'name="passwordless"' in response.content.decode()
    assert "checked" in response.content.decode().split('name="passwordless"')[1].split(">")[0]


def test_the_sign_in_page_offers_the_passkey_without_a_captcha(client, settings):
    settings.IBOK_RECAPTCHA_ENABLED = True  # on, as in production: registration has it, sign-in does not
    assert "recaptcha" in client.get(reverse("accounts:register")).content.decode().lower()

    html = client.get(reverse("account_login")).content.decode()

    assert 'id="passkey_login"' in html
    assert reverse("mfa_login_webauthn") in html
    assert "recaptcha" not in html.lower()
