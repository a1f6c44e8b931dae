"""One filter writes every machine-readable time: <time datetime> values the HTML standard accepts."""

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.templatetags.ibok import machine_time

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 11, 5, 10, 15, 30, 123456, tzinfo=ZoneInfo("Europe/Warsaw")), "2026-11-05T09:15:30Z"),
        (datetime(2026, 7, 1, 0, 0, 0, 999999, tzinfo=UTC), "2026-07-01T00:00:00Z"),
        (datetime(2026, 11, 5, 10, 15, 30, 5), "2026-11-05T10:15:30"),
        (date(2026, 11, 5), "2026-11-05"),
        (None, ""),
    ],
)
def test_times_are_written_to_the_second_without_microseconds(value, text):
    assert machine_time(value) == text


def test_every_time_element_of_every_template_goes_through_the_filter():
    strays = [
        f"{path.relative_to(TEMPLATES)}: {match}"
        for path in TEMPLATES.rglob("*.html")
        for match in re.findall(r'datetime="\{\{[^"]*\}\}"', path.read_text(encoding="utf-8"))
        if "|machine_time" not in match and match != 'datetime="{{ iso }}"'
    ]

    assert strays == []
