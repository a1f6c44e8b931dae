"""The reading window: the days of the month on which the utility accepts self-readings.

Configured as IBOK_READING_WINDOW_DAYS, a comma-separated list of day ranges ("20-31"), single days ("5")
and "L<n>" for the last n days of the month whatever its length ("L10,1-5": the last ten days and the first
five). A day number above the month's length simply never matches.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_RANGE = re.compile(r"^(\d{1,2})(?:-(\d{1,2}))?$")
_LAST = re.compile(r"^[Ll](\d{1,2})$")


@dataclass(frozen=True)
class ReadingWindow:
    ranges: tuple[tuple[int, int], ...]  # inclusive (first, last) days of the month
    last_days: int  # the last n days of each month; 0 for none

    def is_open(self, day: date) -> bool:
        if self.last_days and day.day > calendar.monthrange(day.year, day.month)[1] - self.last_days:
            return True
        return any(first <= day.day <= last for first, last in self.ranges)

    def next_open(self, day: date) -> date:
        """The first day on or after `day` on which readings are accepted."""
        for offset in range(62):
            candidate = day + timedelta(days=offset)
            if self.is_open(candidate):
                return candidate
        raise ImproperlyConfigured("IBOK_READING_WINDOW_DAYS never opens")

    def next_close(self, day: date) -> date:
        """The last day of the open window that contains `day` (which must be open)."""
        candidate = day
        while self.is_open(candidate + timedelta(days=1)) and candidate - day < timedelta(days=62):
            candidate += timedelta(days=1)
        return candidate


def parse_window(spec: str) -> ReadingWindow:
    ranges: list[tuple[int, int]] = []
    last_days = 0
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        if match := _LAST.match(item):
            last_days = max(last_days, int(match.group(1)))
            if not 1 <= last_days <= 31:
                raise ImproperlyConfigured(f"IBOK_READING_WINDOW_DAYS: {item!r} is not between L1 and L31")
            continue
        match = _RANGE.match(item)
        if not match:
            raise ImproperlyConfigured(f"IBOK_READING_WINDOW_DAYS: cannot read {item!r}")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if not 1 <= first <= last <= 31:
            raise ImproperlyConfigured(f"IBOK_READING_WINDOW_DAYS: {item!r} is not a range of days 1-31")
        ranges.append((first, last))
    if not ranges and not last_days:
        raise ImproperlyConfigured("IBOK_READING_WINDOW_DAYS names no day")
    return ReadingWindow(ranges=tuple(ranges), last_days=last_days)


def reading_window() -> ReadingWindow:
    return parse_window(settings.IBOK_READING_WINDOW_DAYS)


@dataclass(frozen=True)
class WindowState:
    is_open: bool
    closes: date | None  # the last day of the open window
    next_opens: date  # the first day of the next window (today when open)


def window_state(today: date) -> WindowState:
    window = reading_window()
    if window.is_open(today):
        return WindowState(is_open=True, closes=window.next_close(today), next_opens=today)
    return WindowState(is_open=False, closes=None, next_opens=window.next_open(today))
