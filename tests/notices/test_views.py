"""The notification settings page and the customer's log of what was sent."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import Channel, Kind, Notification, NotificationPreference, NotificationStatus
from tests.notices.conftest import switch_on

pytestmark = pytest.mark.django_db

# User (the session comes from the cache), terms check is cached in the session; the page: switches, the phone's
# verifications; the navigation's unread cases count (no session write within a minute of the last).
SETTINGS_QUERIES = 4
# User (the session comes from the cache); the page: count and one page of notifications; unread cases.
LOG_QUERIES = 4


def notification(user, n: int, **fields) -> Notification:
    values = {
        "user": user,
        "kind": Kind.PAYMENT_DUE,
        "channel": Channel.EMAIL,
        "object_key": f"invoice:{n}:due:2026-11-19",
        "recipient": user.email,
        "subject": f"Przypomnienie o płatności nr {n}",
        "body": "Termin płatności mija 19.11.2026.",
        "status": NotificationStatus.SENT,
        "created_at": timezone.now(),
        "sent_at": timezone.now(),
        **fields,
    }
    return Notification.objects.create(**values)


def test_a_user_switches_kinds_on_and_off_per_channel(client, customer_user):
    switch_on(customer_user, Kind.OUTAGE)
    client.force_login(customer_user)

    response = client.post(
        reverse("notices:settings"),
        {"payment_due__email": "on", "payment_due__sms": "on", "new_invoice__email": "on"},
        follow=True,
    )

    enabled = set(
        NotificationPreference.objects.filter(user=customer_user, enabled=True).values_list("kind", "channel")
    )
    assert enabled == {
        (Kind.PAYMENT_DUE, Channel.EMAIL),
        (Kind.PAYMENT_DUE, Channel.SMS),
        (Kind.NEW_INVOICE, Channel.EMAIL),
    }
    assert "Ustawienia powiadomień zostały zapisane." in response.content.decode()
    assert response.context["form"]["payment_due__sms"].value() is True
    assert response.context["form"]["outage__email"].value() is False


def test_the_settings_page_names_the_seeds_services_and_links_from_account_settings(client, customer_user):
    client.force_login(customer_user)

    page = client.get(reverse("notices:settings")).content.decode()
    account_settings = client.get(reverse("accounts:settings")).content.decode()

    assert "e-monit" in page
    assert "e-komunikat" in page
    assert "SMS-y są wysyłane tylko na zweryfikowany numer telefonu" in page
    assert reverse("notices:settings") in account_settings


def test_the_log_shows_only_the_users_own_notifications(client, customer_user, stranger):
    notification(customer_user, 1)
    notification(stranger, 2, subject="Cudze przypomnienie")
    client.force_login(customer_user)

    html = client.get(reverse("notices:sent")).content.decode()

    assert "Przypomnienie o płatności nr 1" in html
    assert "Cudze przypomnienie" not in html
    assert "Wysłane" in html


def test_anonymous_visitors_are_sent_to_log_in(client):
    for name in ("notices:settings", "notices:sent", "notices:documents"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("count", [1, 60])
def test_the_log_runs_a_fixed_number_of_queries(client, customer_user, count, django_assert_num_queries):
    for n in range(count):
        notification(customer_user, n)
    client.force_login(customer_user)
    client.get(reverse("notices:sent"))  # the terms check is then cached in the session

    with django_assert_num_queries(LOG_QUERIES):
        response = client.get(reverse("notices:sent"))

    assert len(response.context["page"].object_list) == min(count, 25)


@pytest.mark.parametrize("switches", [0, 10])
def test_the_settings_page_runs_a_fixed_number_of_queries(client, customer_user, switches, django_assert_num_queries):
    for kind in list(Kind)[: switches // 2]:
        switch_on(customer_user, kind, channels=(Channel.EMAIL, Channel.SMS))
    customer_user.phone = "+48601234567"
    customer_user.save(update_fields=["phone"])
    client.force_login(customer_user)
    client.get(reverse("notices:settings"))

    with django_assert_num_queries(SETTINGS_QUERIES):
        client.get(reverse("notices:settings"))
