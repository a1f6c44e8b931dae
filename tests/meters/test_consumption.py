"""Consumption arithmetic against figures worked out by hand (no database)."""

from datetime import date
from decimal import Decimal

from meters.consumption import analyse, buckets_for, intervals_of, usage


def readings(*pairs):
    return [(day, Decimal(value)) for day, value in pairs]


def test_use_between_readings_is_spread_evenly_over_the_days_across_a_new_year():
    # 1 Dec 2025 -> 1 Feb 2026 is 62 days and 62 m³: 1 m³ a day; 15 Dec - 10 Jan is 17 + 10 = 27 days.
    intervals = intervals_of(readings((date(2025, 12, 1), "100"), (date(2026, 2, 1), "162")))

    result = usage(intervals, date(2025, 12, 15), date(2026, 1, 11))

    assert result.consumption == Decimal("27.000")
    assert result.covered_days == 27
    assert result.average_per_day == Decimal("1.000")


def test_a_monthly_analysis_crossing_a_year_apportions_each_month_by_days():
    intervals = intervals_of(readings((date(2025, 12, 1), "100"), (date(2026, 2, 1), "162")))

    analysis = analyse(intervals, start=date(2025, 12, 15), end=date(2026, 1, 11), unit="m³")

    assert analysis.granularity == "month"
    assert [(b.start, b.end, b.usage.consumption) for b in analysis.buckets] == [
        (date(2025, 12, 15), date(2026, 1, 1), Decimal("17.000")),
        (date(2026, 1, 1), date(2026, 1, 11), Decimal("10.000")),
    ]
    assert analysis.total.consumption == Decimal("27.000")


def test_an_uneven_rate_is_rounded_only_at_the_end():
    # 10 m³ in 3 days; 2 of those days: 20/3 = 6.6667 -> 6.667.
    intervals = intervals_of(readings((date(2026, 1, 1), "0"), (date(2026, 1, 4), "10")))

    assert usage(intervals, date(2026, 1, 1), date(2026, 1, 3)).consumption == Decimal("6.667")
    assert usage(intervals, date(2026, 1, 1), date(2026, 1, 4)).consumption == Decimal("10.000")


def test_a_replaced_meter_and_the_new_one_are_counted_each_from_its_own_readings():
    # Old meter: 500 -> 559 from 1 Jan to 1 Mar (59 days, 1 m³ a day). New meter from 0: 62 m³ in March (2 a day).
    old = intervals_of(readings((date(2026, 1, 1), "500"), (date(2026, 3, 1), "559")))
    new = intervals_of(readings((date(2026, 3, 1), "0"), (date(2026, 4, 1), "62")))

    analysis = analyse(old + new, start=date(2026, 1, 1), end=date(2026, 4, 1), unit="m³")

    assert [b.usage.consumption for b in analysis.buckets] == [Decimal("31.000"), Decimal("28.000"), Decimal("62.000")]
    assert analysis.total.consumption == Decimal("121.000")
    assert analysis.total.covered_days == 90
    assert analysis.total.average_per_day == Decimal("1.344")  # 121 / 90


def test_use_before_the_contract_began_is_not_counted():
    # 10 m³ over 1-11 Jan; the contract began on 6 Jan: 5 of the 10 days are the customer's.
    intervals = intervals_of(readings((date(2026, 1, 1), "0"), (date(2026, 1, 11), "10")), not_before=date(2026, 1, 6))

    assert usage(intervals, date(2026, 1, 1), date(2026, 2, 1)).consumption == Decimal("5.000")
    assert usage(intervals, date(2026, 1, 1), date(2026, 2, 1)).covered_days == 5


def test_a_drop_on_the_same_meter_is_left_out():
    intervals = intervals_of(readings((date(2026, 1, 1), "50"), (date(2026, 1, 11), "40"), (date(2026, 1, 21), "45")))

    assert usage(intervals, date(2026, 1, 1), date(2026, 2, 1)).consumption == Decimal("5.000")


def test_the_same_period_last_year_is_compared():
    # December 2024: 31 m³ (1 a day); December 2025: 62 m³ (2 a day).
    intervals = intervals_of(
        readings(
            (date(2024, 12, 1), "0"), (date(2025, 1, 1), "31"), (date(2025, 12, 1), "1000"), (date(2026, 1, 1), "1062")
        )
    )

    analysis = analyse(intervals, start=date(2025, 12, 1), end=date(2026, 1, 1), unit="m³")

    assert analysis.total.consumption == Decimal("62.000")
    assert analysis.last_year.consumption == Decimal("31.000")
    assert analysis.change == Decimal("31.000")
    assert analysis.buckets[0].last_year.consumption == Decimal("31.000")


def test_a_month_above_twice_the_usual_daily_use_is_flagged_as_a_possible_leak():
    # 2025: 109.5 m³ in 365 days = 0.3 a day (usual); January 2026: 31 m³ = 1 a day > 0.6.
    intervals = intervals_of(
        readings(
            (date(2025, 1, 1), "0"),
            (date(2026, 1, 1), "109.5"),
            (date(2026, 2, 1), "140.5"),
            (date(2026, 3, 1), "148.9"),
        )
    )

    analysis = analyse(intervals, start=date(2026, 1, 1), end=date(2026, 3, 1), unit="m³")

    assert analysis.usual_per_day == Decimal("0.300")
    assert analysis.leak_threshold_per_day == Decimal("0.600")
    january, february = analysis.buckets
    assert january.above_usual  # 1.000 a day
    assert not february.above_usual  # 8.4 / 28 = 0.3 a day
    assert analysis.possible_leak
    assert analysis.flagged == [january]


def test_use_of_exactly_twice_the_usual_is_not_yet_a_leak():
    intervals = intervals_of(
        readings((date(2025, 1, 1), "0"), (date(2026, 1, 1), "109.5"), (date(2026, 2, 1), "128.1"))
    )

    analysis = analyse(intervals, start=date(2026, 1, 1), end=date(2026, 2, 1), unit="m³")

    assert analysis.buckets[0].usage.average_per_day == Decimal("0.600")
    assert not analysis.possible_leak


def test_without_90_days_of_readings_before_the_period_nothing_is_called_usual():
    intervals = intervals_of(readings((date(2025, 11, 1), "0"), (date(2026, 1, 1), "10"), (date(2026, 2, 1), "100")))

    analysis = analyse(intervals, start=date(2026, 1, 1), end=date(2026, 2, 1), unit="m³")

    assert analysis.usual.covered_days == 61
    assert analysis.usual_per_day is None
    assert not analysis.possible_leak


def test_periods_longer_than_three_years_are_shown_per_year():
    granularity, spans = buckets_for(date(2016, 11, 21), date(2026, 11, 22))

    assert granularity == "year"
    assert spans[0] == (date(2016, 11, 21), date(2017, 1, 1))
    assert spans[-1] == (date(2026, 1, 1), date(2026, 11, 22))
    assert len(spans) == 11


def test_two_readings_on_the_same_day_count_as_one_day():
    intervals = intervals_of(readings((date(2026, 1, 5), "10"), (date(2026, 1, 5), "12")))

    assert usage(intervals, date(2026, 1, 1), date(2026, 2, 1)).consumption == Decimal("2.000")
