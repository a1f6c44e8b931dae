"""A phone is verified by a 6-digit SMS code: stored hashed, expiring, a few tries, rate-limited."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from notices import services
from notices.models import LocalSms, PhoneVerification
from tests.notices.conftest import PHONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_phone(customer_user):
    customer_user.phone = PHONE
    customer_user.save(update_fields=["phone"])
    return customer_user


def code_from_sms() -> str:
    return re.search(r"\b(\d{6})\b", LocalSms.objects.order_by("-id").first().text).group(1)


def test_the_code_goes_by_sms_and_only_its_hash_is_stored(client, with_phone):
    client.force_login(with_phone)

    response = client.post(reverse("notices:phone-code-send"), follow=True)

    sms = LocalSms.objects.get()
    code = code_from_sms()
    assert sms.phone == PHONE
    assert "kod weryfikacyjny" in sms.text
    verification = PhoneVerification.objects.get()
    assert code not in verification.code_hash
    assert "Wysłaliśmy kod SMS-em" in response.content.decode()
    assert response.context["phone"].pending == verification


def test_the_right_code_verifies_the_phone(client, with_phone):
    client.force_login(with_phone)
    client.post(reverse("notices:phone-code-send"))

    response = client.post(reverse("notices:phone-verify"), {"code": code_from_sms()}, follow=True)

    assert "Numer telefonu został zweryfikowany" in response.content.decode()
    assert response.context["phone"].verified


def test_a_wrong_code_is_refused_and_counted(client, with_phone):
    client.force_login(with_phone)
    client.post(reverse("notices:phone-code-send"))
    wrong = "000000" if code_from_sms() != "000000" else "111111"

    response = client.post(reverse("notices:phone-verify"), {"code": wrong})

    assert "Kod jest nieprawidłowy." in response.content.decode()
    assert PhoneVerification.objects.get().attempts == 1
    assert PhoneVerification.objects.get().verified_at is None


def test_after_five_wrong_codes_even_the_right_one_is_refused(with_phone):
    now = timezone.now()
    services.phone_code_send(user=with_phone, now=now)
    code = code_from_sms()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(services.PhoneCodeInvalid):
            services.phone_code_verify(user=with_phone, code=wrong, now=now)

    with pytest.raises(services.PhoneCodeInvalid, match="Zbyt wiele błędnych kodów"):
        services.phone_code_verify(user=with_phone, code=code, now=now)


def test_an_expired_code_is_refused(with_phone):
    now = timezone.now()
    services.phone_code_send(user=with_phone, now=now)

    with pytest.raises(services.PhoneCodeInvalid, match="Kod wygasł"):
        services.phone_code_verify(user=with_phone, code=code_from_sms(), now=now + timedelta(minutes=11))


def test_a_second_code_within_a_minute_is_refused(client, with_phone):
    client.force_login(with_phone)
    with time_machine.travel(timezone.now(), tick=False):
        client.post(reverse("notices:phone-code-send"))
        response = client.post(reverse("notices:phone-code-send"), follow=True)

    assert LocalSms.objects.count() == 1
    assert "Odczekaj minutę" in response.content.decode()


def test_a_user_without_a_phone_is_told_to_add_one(client, customer_user):
    client.force_login(customer_user)

    response = client.post(reverse("notices:phone-code-send"), follow=True)

    assert LocalSms.objects.count() == 0
    assert "Twoje konto nie ma numeru telefonu" in response.content.decode()


def test_a_code_for_the_old_number_does_not_verify_a_new_one(with_phone):
    now = timezone.now()
    services.phone_code_send(user=with_phone, now=now)
    code = code_from_sms()
    with_phone.phone = "+48609000111"
    with_phone.save(update_fields=["phone"])

    with pytest.raises(services.PhoneCodeInvalid):
        services.phone_code_verify(user=with_phone, code=code, now=now)


def test_a_gateway_failure_leaves_no_code_behind(with_phone, settings):
    settings.IBOK_SMS_BACKEND = "tests.notices.gateways.RefusingGateway"

    with pytest.raises(services.PhoneCodeNotSent):
        services.phone_code_send(user=with_phone, now=timezone.now())

    assert not PhoneVerification.objects.exists()
