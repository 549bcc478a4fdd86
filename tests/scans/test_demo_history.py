"""The demo workspace's 60 days of scans: a plausible rhythm and funnel, stored and rolled up as real scans are."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.db.models import Count, Sum
from django_tenants.utils import schema_context

from scans.demo import HISTORY_DAYS, seed_history
from scans.models import DimensionDay, RollupDay, Scan, StopDay
from tests.fixtures.trails import make_trail, trail_markdown
from trails.demo import DEMO_TRAIL

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def seeded(workspace_a):
    trail = make_trail(workspace=workspace_a, source=DEMO_TRAIL.read_text())
    stored = seed_history(workspace=workspace_a, now=NOW)
    with schema_context("alpha"):
        yield trail, stored, list(trail.live_stops())


def test_it_stores_about_sixty_days_of_scans_up_to_now(seeded):
    _, stored, _ = seeded

    days = Scan.objects.dates("scanned_at", "day")
    assert stored == Scan.objects.count() > 1000
    assert days[0] == datetime.date(2026, 10, 2) and days[len(days) - 1] <= NOW.date()
    assert len(days) == HISTORY_DAYS
    assert not Scan.objects.filter(scanned_at__gt=NOW).exists()


def test_running_it_again_stores_nothing_twice(seeded, workspace_a):
    _, stored, _ = seeded

    again = seed_history(workspace=workspace_a, now=NOW)
    later = seed_history(workspace=workspace_a, now=NOW + datetime.timedelta(hours=6))

    with schema_context("alpha"):
        assert again == 0 and Scan.objects.count() == stored + later
        assert later < 100  # only this afternoon's visits, not another 60 days


def test_weekends_are_busier_than_weekdays(seeded):
    per_day = Counter()
    for scan in Scan.objects.people().only("scanned_at"):
        per_day[scan.scanned_at.date()] += 1
    weekend = [count for day, count in per_day.items() if day.weekday() >= 5]
    weekday = [count for day, count in per_day.items() if day.weekday() < 5]

    assert sum(weekend) / len(weekend) > 1.8 * sum(weekday) / len(weekday)


def test_the_funnel_thins_out_along_the_trail(seeded):
    _, _, stops = seeded

    reached = [StopDay.objects.filter(stop=stop).aggregate(people=Sum("funnel_visitors"))["people"] for stop in stops]

    assert len(stops) >= 5
    assert all(earlier > later for earlier, later in zip(reached, reached[1:], strict=False))
    assert reached[-1] < reached[0] / 2


def test_it_has_several_devices_countries_referrers_and_a_few_bots(seeded):
    people = Scan.objects.people()

    assert set(people.values_list("device", flat=True)) >= {"mobile", "tablet", "desktop"}
    assert people.values("country").distinct().count() >= 6
    assert people.exclude(referrer="").values("referrer").distinct().count() >= 4
    bots = Scan.objects.filter(is_bot=True).count()
    assert 0 < bots < Scan.objects.count() / 20


def test_closed_days_roll_ups_agree_with_the_raw_rows(seeded):
    midnight = NOW.replace(hour=0)
    closed = Scan.objects.filter(scanned_at__lt=midnight)
    raw_days = dict(closed.values_list("scanned_at__date").annotate(count=Count("id")))
    raw_stops = Counter(closed.filter(is_bot=False).values_list("stop_id", flat=True))
    raw_bots = closed.filter(is_bot=True).count()

    rolled = {row.day: row.scans for row in RollupDay.objects.filter(scans__gt=0)}
    assert len(rolled) == HISTORY_DAYS - 1  # today is counted live, from the raw rows
    assert rolled == raw_days
    per_stop = StopDay.objects.values_list("stop").annotate(scans=Sum("scans"))
    assert dict(per_stop) == dict(raw_stops)
    assert StopDay.objects.aggregate(bots=Sum("bot_scans"))["bots"] == raw_bots
    devices = (
        DimensionDay.objects.filter(dimension="device", scans__gt=0).values_list("value").annotate(scans=Sum("scans"))
    )
    assert dict(devices) == dict(Counter(closed.filter(is_bot=False).values_list("device", flat=True)))


def test_a_workspace_without_a_published_trail_gets_no_history(workspace_a):
    make_trail(workspace=workspace_a, source=trail_markdown(), published=False)

    assert seed_history(workspace=workspace_a, now=NOW) == 0
