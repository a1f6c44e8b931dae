"""Fixtures of the meter tests: a customer's water meter and a helper that records its readings."""

from datetime import date
from decimal import Decimal

import pytest

from meters.models import Reading
from tests import factories


@pytest.fixture(autouse=True)
def _meter_settings(settings, tmp_path):
    """The default reading window and warning period whatever the environment says; photos in a temp folder."""
    settings.IBOK_READING_WINDOW_DAYS = "L10,1-5"
    settings.IBOK_LEGALIZATION_WARNING_DAYS = 60
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests travel in time after signing in: an idle session must not expire on the way.
    settings.SESSION_COOKIE_AGE = 20 * 365 * 24 * 3600


@pytest.fixture
def point(customer):
    return customer.delivery_points.get()


@pytest.fixture
def meter(point):
    """The main cold-water meter of the customer's point, installed when the contract began (1 April 2021)."""
    return factories.MeterFactory(delivery_point=point, serial_number="WM2021001", installed_date=date(2021, 4, 1))


def add_readings(meter, *readings: tuple[date, str], **extra) -> list[Reading]:
    """Confirmed collector readings of the meter: add_readings(meter, (date(2026, 1, 1), "100.000"), ...)."""
    return [
        factories.ReadingFactory(meter=meter, read_date=day, value=Decimal(value), **extra) for day, value in readings
    ]
