from __future__ import annotations

import datetime
import random
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncDate
from django_tenants.utils import schema_context

from scans import rollups
from scans.models import DimensionDay, RollupDay, Scan, StopDay, TrailDay
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail, trail_markdown
from tests.scans.test_analytics import days_ago, report_for, stops_of


@pytest.fixture
def new_york(workspace_a):
    workspace_a.time_zone = "America/New_York"
    workspace_a.save()
    yield workspace_a
    workspace_a.time_zone = "UTC"
    workspace_a.save()


def build(workspace, **options) -> int:
    with schema_context(workspace.schema_name):
        return rollups.build_rollups(workspace=workspace, **options)


def table(model, *fields):
    with schema_context("alpha"):
        return list(model.objects.order_by(*fields).values_list(*fields))


def test_roll_ups_equal_counts_from_the_raw_rows_over_random_scans(workspace_a, new_york):
    rng = random.Random(5)
    trails = [
        make_trail(workspace=workspace_a),
        make_trail(workspace=workspace_a, source=trail_markdown(title="Ride", stops=[("a", "A"), ("b", "B")])),
    ]
    stops = [stop for trail in trails for stop in stops_of(trail, workspace_a)]
    for _ in range(400):
        make_scan(
            workspace=workspace_a,
            stop=rng.choice(stops),
            at=days_ago(rng.randrange(12), hour=0) + datetime.timedelta(minutes=rng.randrange(24 * 60)),
            visitor=rng.choice("abcdefgh"),
            is_bot=rng.random() < 0.2,
            country=rng.choice(["GB", "FR", ""]),
            browser=rng.choice(["Chrome", "Firefox"]),
            referrer=rng.choice(["", "https://a.example/", "http://b.example:8080/x"]),
        )

    assert build(workspace_a) > 0
    with schema_context("alpha"):
        by_day = (
            Scan.objects.annotate(day=TruncDate("scanned_at", tzinfo=ZoneInfo("America/New_York")))
            .values("day", "stop_id")
            .annotate(scans=Count("pk"), visitors=Count("visitor", distinct=True))
        )
        humans = {(row["day"], row["stop_id"]): row for row in by_day.filter(is_bot=False)}
        bots = {(row["day"], row["stop_id"]): row["scans"] for row in by_day.filter(is_bot=True)}
        today = workspace_a.today()
        for row in StopDay.objects.all():
            key = (row.day, row.stop_id)
            assert row.day < today
            human = humans.get(key, {"scans": 0, "visitors": 0})
            assert (row.scans, row.visitors, row.bot_scans) == (human["scans"], human["visitors"], bots.get(key, 0))
        closed = Scan.objects.filter(scanned_at__lt=workspace_a.midnight(today)).count()
        assert sum(row.scans + row.bot_scans for row in StopDay.objects.all()) == closed
        assert sum(row.scans + row.bot_scans for row in TrailDay.objects.filter(trail=None)) == closed
        for dimension in DimensionDay.Dimension.values:
            assert sum(row.scans + row.bot_scans for row in DimensionDay.objects.filter(dimension=dimension)) == closed
    for include_bots in (False, True):
        from_rollups = report_for(workspace_a, days=14, include_bots=include_bots)
        from_raw = report_for(workspace_a, days=14, include_bots=include_bots, raw_only=True)
        assert from_rollups.days == from_raw.days
        assert from_rollups.trails == from_raw.trails
        assert from_rollups.stops == from_raw.stops
        assert from_rollups.funnels == from_raw.funnels
        assert from_rollups.breakdowns == from_raw.breakdowns
        assert from_rollups.scans > 0


def test_building_again_changes_nothing(workspace_a):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(2))
    build(workspace_a)
    before = table(StopDay, "day", "stop_id", "scans", "visitors"), table(TrailDay, "day", "trail_id", "scans")

    assert build(workspace_a) == 0
    assert build(workspace_a, rebuild=True) > 0
    assert (
        table(StopDay, "day", "stop_id", "scans", "visitors"),
        table(TrailDay, "day", "trail_id", "scans"),
    ) == before


def test_a_late_scan_of_a_closed_day_is_counted_when_the_roll_ups_are_built_again(workspace_a):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(5), visitor="early")
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(3), visitor="early")
    build(workspace_a)
    assert report_for(workspace_a, days=7).scans == 2

    make_scan(workspace=workspace_a, stop=stop, at=days_ago(5, hour=8), visitor="late")
    call_command("build_rollups", schema="alpha", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert table(StopDay, "day", "scans", "visitors") == [(days_ago(5).date(), 2, 2), (days_ago(3).date(), 1, 1)]
    assert report_for(workspace_a, days=7).scans == 3


def test_days_are_the_workspaces_own_calendar_days(workspace_a, new_york):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    # 02:00 UTC is still the evening before in New York.
    utc_morning = days_ago(3, hour=2, tz="UTC")
    make_scan(workspace=workspace_a, stop=stop, at=utc_morning)
    build(workspace_a)

    assert table(StopDay, "day", "scans") == [(utc_morning.date() - datetime.timedelta(days=1), 1)]


def test_the_page_builds_a_missing_closed_day_and_counts_today_from_raw_scans(client_a, workspace_a, cast):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(1))
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(0, hour=0))
    client_a.force_login(cast.owner)

    response = client_a.get("/dashboard/analytics/?range=7")

    assert "Scans 2 " in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    today = workspace_a.today()
    with schema_context("alpha"):
        built = set(RollupDay.objects.values_list("day", flat=True))
    assert days_ago(1).date() in built and today not in built
    assert table(StopDay, "day", "scans") == [(days_ago(1).date(), 1)]


def test_the_command_builds_every_workspace(workspace_a, workspace_b):
    for workspace in (workspace_a, workspace_b):
        make_scan(workspace=workspace, stop=stops_of(make_trail(workspace=workspace), workspace)[0], at=days_ago(1))

    call_command("build_rollups", stdout=open("/dev/null", "w"))  # noqa: SIM115

    for schema in ("alpha", "bravo"):
        with schema_context(schema):
            assert StopDay.objects.get().scans == 1
