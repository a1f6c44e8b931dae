"""The alarm on the demo's data, loaded through the importer: heat follows the season and is no leak (issue 19)."""

from datetime import date

import pytest
from django.utils import timezone

from billing import services
from demo import batch as demo
from meters import selectors
from meters.models import Medium, Meter, MeterKind, Reading

TODAY = date(2026, 11, 21)


@pytest.fixture
def demo_points(tmp_path, db):
    demo.write_demo_batch(tmp_path / "batch", customers=120, seed=7, years=3, today=TODAY)
    services.batch_import(folder=tmp_path / "batch", clock=timezone.now, source="demo")
    return {
        meter.delivery_point
        for meter in Meter.objects.filter(kind=MeterKind.MAIN).select_related("delivery_point__contract")
    }


def scope_of(point) -> selectors.Scope:
    main = tuple(point.meters.filter(kind=MeterKind.MAIN).select_related("delivery_point__contract"))
    return selectors.Scope(key=f"point-{point.pk}", label=point.address_line, point=point, meters=main)


def test_no_demo_heat_meter_alarms_in_winter_and_no_demo_water_meter_leaks(demo_points):
    heat = [p for p in demo_points if p.meters.filter(medium=Medium.HEAT).exists()]
    water = [p for p in demo_points if not p.meters.filter(medium=Medium.HEAT).exists()]
    assert len(heat) > 50 and len(water) > 50

    assert Reading.objects.filter(meter__medium=Medium.HEAT, degree_days__isnull=False).exists()

    judged = over_twice_the_usual = 0
    for point in demo_points:
        analysis = selectors.consumption_analysis(scope=scope_of(point), start=date(2025, 11, 1), end=date(2026, 4, 1))
        judged += analysis.judged
        assert not analysis.has_alarm, (point.code, [b.start for b in analysis.flagged])
        usual = analysis.usual_per_day
        over_twice_the_usual += any(usual and (b.usage.average_per_day or 0) > 2 * usual for b in analysis.buckets)
    assert judged > len(demo_points) * 0.6  # most points have the earlier winters to compare with
    assert over_twice_the_usual > len(heat) // 10  # what the old rule (twice the yearly average) called a leak
