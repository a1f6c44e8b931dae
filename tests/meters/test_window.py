"""The reading window configured as IBOK_READING_WINDOW_DAYS."""

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from meters.window import parse_window


def test_the_default_window_is_the_last_ten_days_and_the_first_five_of_each_month():
    window = parse_window("L10,1-5")

    assert [d for d in range(1, 31) if window.is_open(date(2026, 11, d))] == [1, 2, 3, 4, 5, *range(21, 31)]
    assert window.is_open(date(2026, 2, 19))  # February 2026 has 28 days: its last ten start on the 19th
    assert not window.is_open(date(2026, 2, 18))


def test_day_ranges_and_single_days_are_read():
    window = parse_window("20-31, 3")

    assert window.is_open(date(2026, 11, 3))
    assert window.is_open(date(2026, 11, 30))
    assert not window.is_open(date(2026, 11, 4))
    assert not window.is_open(date(2026, 11, 19))


def test_the_next_window_opening_and_closing_are_found():
    window = parse_window("L10,1-5")

    assert window.next_open(date(2026, 11, 10)) == date(2026, 11, 21)
    assert window.next_close(date(2026, 11, 25)) == date(2026, 12, 5)


@pytest.mark.parametrize("spec", ["", "0-5", "5-1", "32", "L0", "monday"])
def test_a_wrong_setting_stops_with_a_clear_error(spec):
    with pytest.raises(ImproperlyConfigured):
        parse_window(spec)


def test_a_wrong_window_setting_fails_the_system_check(settings):
    from meters.checks import reading_window_check

    settings.IBOK_READING_WINDOW_DAYS = "20-31,1-5"
    assert reading_window_check(None) == []

    settings.IBOK_READING_WINDOW_DAYS = "every day"
    [error] = reading_window_check(None)
    assert error.id == "meters.E001"
