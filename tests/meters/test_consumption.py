"""Consumption arithmetic against figures worked out by hand (no database)."""

from datetime import date
from decimal import Decimal

from meters import consumption
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

    analysis = analyse(intervals, start=date(2025, 12, 15), end=date(2026, 1, 11), unit="m³", medium="COLD_WATER")

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

    analysis = analyse(old + new, start=date(2026, 1, 1), end=date(2026, 4, 1), unit="m³", medium="COLD_WATER")

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

    analysis = analyse(intervals, start=date(2025, 12, 1), end=date(2026, 1, 1), unit="m³", medium="COLD_WATER")

    assert analysis.total.consumption == Decimal("62.000")
    assert analysis.last_year.consumption == Decimal("31.000")
    assert analysis.change == Decimal("31.000")
    assert analysis.buckets[0].last_year.consumption == Decimal("31.000")


def monthly(first: date, last: date, per_day, *, degree_days=None):
    """Readings on the first of each month from `first` to `last`; per_day(month start) gives that month's rate."""
    rows, value, day, previous = [], Decimal(0), first, None
    while day <= last:
        following = consumption.add_months(day, 1)
        rows.append((day, value) if previous is None or degree_days is None else (day, value, degree_days(previous)))
        value += Decimal(per_day(day)) * (following - day).days
        previous, day = day, following
    return rows


def water(extra_from=None, extra=Decimal("0.5"), until=date(2026, 4, 1)):
    """0.3 m³ a day since 2023, and a steady extra flow from `extra_from` on."""
    return monthly(
        date(2023, 1, 1), until, lambda day: Decimal("0.3") + (extra if extra_from and day >= extra_from else 0)
    )


HEAT_SHARE = (0.175, 0.155, 0.13, 0.08, 0.03, 0.005, 0.003, 0.003, 0.025, 0.085, 0.135, 0.174)


def heat(winters: dict, *, with_degree_days: bool = False, jump: dict | None = None):
    """A house using 60 GJ in an average year, by the season; winters[season's first year] scales the cold."""
    jump = jump or {}

    def winter(day: date) -> float:
        return winters.get(day.year if day.month >= 9 else day.year - 1, 1.0)

    def per_day(day: date) -> Decimal:
        days = (consumption.add_months(day, 1) - day).days
        gj = 60 * (0.9 * HEAT_SHARE[day.month - 1] * winter(day) + 0.1 / 12) * jump.get((day.year, day.month), 1)
        return Decimal(f"{gj / days:.6f}")

    def degree_days(day: date) -> Decimal:
        return Decimal(f"{3600 * HEAT_SHARE[day.month - 1] * winter(day):.1f}")

    return monthly(date(2022, 9, 1), date(2026, 4, 1), per_day, degree_days=degree_days if with_degree_days else None)


def test_a_steady_extra_flow_on_a_water_meter_is_a_possible_leak():
    # 0.3 m³ a day for three years, then 0.8 from January 2026: every month is over 1.5 x the same month before.
    intervals = intervals_of(water(extra_from=date(2026, 1, 1)))

    analysis = analyse(intervals, start=date(2025, 11, 1), end=date(2026, 4, 1), unit="m³", medium="COLD_WATER")

    assert [b.start.month for b in analysis.flagged] == [1, 2, 3]
    (run,) = analysis.runs
    assert (run.start, run.end, run.readings) == (date(2026, 1, 1), date(2026, 4, 1), 4)
    assert analysis.has_alarm and analysis.judged


def test_one_high_month_on_a_water_meter_is_no_leak():
    # A filled pool: 2.3 m³ a day in June 2025 only; use then goes back to usual, so it stopped.
    intervals = intervals_of(
        monthly(date(2023, 1, 1), date(2026, 1, 1), lambda day: "2.3" if day == date(2025, 6, 1) else "0.3")
    )

    analysis = analyse(intervals, start=date(2025, 1, 1), end=date(2026, 1, 1), unit="m³", medium="COLD_WATER")

    assert analysis.buckets[5].usage.average_per_day == Decimal("2.300")
    assert not analysis.has_alarm


def test_a_leak_is_not_called_on_fewer_readings_than_the_rule_needs():
    # The flow started on 1 February: two raised stretches (three readings) by 1 April, a third by 1 May.
    three = analyse(
        intervals_of(water(extra_from=date(2026, 2, 1), until=date(2026, 4, 1))),
        start=date(2026, 1, 1),
        end=date(2026, 4, 1),
        unit="m³",
        medium="COLD_WATER",
    )
    four = analyse(
        intervals_of(water(extra_from=date(2026, 2, 1), until=date(2026, 5, 1))),
        start=date(2026, 1, 1),
        end=date(2026, 5, 1),
        unit="m³",
        medium="COLD_WATER",
    )

    assert not three.has_alarm
    assert [b.start.month for b in four.flagged] == [2, 3, 4]


def test_a_usual_winter_on_a_heat_meter_is_no_alarm():
    # January uses over twice the yearly average a day: the old rule (twice the usual) cried wolf here.
    intervals = intervals_of(heat({2022: 0.95, 2023: 1.05, 2024: 0.9, 2025: 1.1}))

    analysis = analyse(intervals, start=date(2025, 10, 1), end=date(2026, 4, 1), unit="GJ", medium="HEAT")

    january = analysis.buckets[3]
    assert january.usage.average_per_day > 2 * analysis.usual_per_day
    assert analysis.judged and not analysis.has_alarm


def test_a_heat_customer_using_twice_last_winter_is_warned():
    intervals = intervals_of(heat({}, jump={(2025, 12): 2, (2026, 1): 2, (2026, 2): 2, (2026, 3): 2}))

    analysis = analyse(intervals, start=date(2025, 10, 1), end=date(2026, 4, 1), unit="GJ", medium="HEAT")

    # Use doubles from December. A month is judged with the two before it, which smooths an estimate and its
    # catch-up: December's window (October to December) is 1.4 x, January's (November to January) 1.7 x.
    assert [b.start.month for b in analysis.flagged] == [1, 2, 3]
    assert analysis.is_heat and analysis.runs == []


def test_a_cold_winter_is_no_jump_when_the_billing_system_sends_degree_days():
    winters = {2022: 0.8, 2023: 0.8, 2024: 0.8, 2025: 1.45}  # a winter 80 % colder than the three before

    without = analyse(
        intervals_of(heat(winters)), start=date(2026, 1, 1), end=date(2026, 4, 1), unit="GJ", medium="HEAT"
    )
    with_degree_days = analyse(
        intervals_of(heat(winters, with_degree_days=True)),
        start=date(2026, 1, 1),
        end=date(2026, 4, 1),
        unit="GJ",
        medium="HEAT",
    )

    assert without.has_alarm  # raw use: over 1.5 x
    assert with_degree_days.judged and not with_degree_days.has_alarm


def test_without_earlier_years_nothing_is_judged():
    intervals = intervals_of(readings((date(2025, 11, 1), "0"), (date(2026, 1, 1), "10"), (date(2026, 2, 1), "100")))

    analysis = analyse(intervals, start=date(2026, 1, 1), end=date(2026, 2, 1), unit="m³", medium="COLD_WATER")

    assert analysis.usual.covered_days == 61
    assert analysis.usual_per_day is None
    assert not analysis.judged and not analysis.has_alarm


def test_periods_longer_than_three_years_are_shown_per_year():
    granularity, spans = buckets_for(date(2016, 11, 21), date(2026, 11, 22))

    assert granularity == "year"
    assert spans[0] == (date(2016, 11, 21), date(2017, 1, 1))
    assert spans[-1] == (date(2026, 1, 1), date(2026, 11, 22))
    assert len(spans) == 11


def test_two_readings_on_the_same_day_count_as_one_day():
    intervals = intervals_of(readings((date(2026, 1, 5), "10"), (date(2026, 1, 5), "12")))

    assert usage(intervals, date(2026, 1, 1), date(2026, 2, 1)).consumption == Decimal("2.000")
