"""Fixtures for notices: switches, a verified phone, a media folder per test, a second household nearby."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from notices.models import Channel, NotificationPreference, PhoneVerification
from tests import factories

WARSAW = ZoneInfo("Europe/Warsaw")
# The daily job's hour on an ordinary weekday: Tuesday 17 November 2026, 08:00 in Warsaw.
MORNING = datetime(2026, 11, 17, 8, 0, tzinfo=WARSAW)
PHONE = "+48601234567"


@pytest.fixture(autouse=True)
def notice_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IBOK_SMS_BACKEND = "notices.sms.LocalBackend"
    settings.IBOK_NOTIFY_PAYMENT_DUE_DAYS = 3
    settings.IBOK_NOTIFY_CONTRACT_END_DAYS = 30
    settings.IBOK_NOTIFY_LEGALIZATION_DAYS = 30
    settings.IBOK_NOTIFY_NEW_INVOICE_MAX_AGE_DAYS = 7
    settings.IBOK_NOTIFY_RETRY_SECONDS = 60
    settings.IBOK_NOTIFY_MAX_ATTEMPTS = 3
    settings.IBOK_PORTAL_URL = "https://ibok.example.pl"
    return settings


def switch_on(user, *kinds: str, channels=(Channel.EMAIL,)) -> None:
    for kind in kinds:
        for channel in channels:
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, channel=channel, defaults={"enabled": True, "updated_at": timezone.now()}
            )


def verify_phone(user, phone: str = PHONE) -> None:
    """The user's phone, verified as if they had typed the code."""
    user.phone = phone
    user.save(update_fields=["phone"])
    now = timezone.now()
    PhoneVerification.objects.create(
        user=user, phone=phone, code_hash="x", created_at=now, expires_at=now + timezone.timedelta(minutes=10),
        verified_at=now,
    )  # fmt: skip


def login_user_for(customer, username: str | None = None, **access):
    username = username or f"u{customer.number}"
    user = factories.UserFactory(username=username, email=f"{username}@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.CustomerAccessFactory(user=user, customer=customer, **access)
    return user


@pytest.fixture
def point(customer):
    return customer.delivery_points.get()


@pytest.fixture
def stranger(db):
    """Another household with its own login."""
    point = factories.DeliveryPointFactory(customer__number="999001", customer__name="Obcy Odbiorca")
    return login_user_for(point.customer, username="999001")
