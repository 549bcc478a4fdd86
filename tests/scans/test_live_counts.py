"""Today's numbers are counted from the raw scans once per page, kept until a scan comes in, and always current."""

from __future__ import annotations

import datetime

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from qrcards.routers import analytics_database
from scans.analytics import home_summary
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail, trail_markdown
from tests.scans.test_analytics import report_for, stops_of, text_of

PAGE = "/dashboard/analytics/?range=7"


def raw_counts(action) -> int:
    """How many times `action` counted raw scans for the page (the statement that reads them)."""
    with CaptureQueriesContext(connections[analytics_database()]) as queries:
        action()
    return sum("/* analytics:live */" in query["sql"] for query in queries.captured_queries)


def now_in(workspace) -> datetime.datetime:
    # A scan just written: today in the workspace's zone, whatever the hour.
    return max(timezone.now(), workspace.midnight(workspace.today()))


def test_a_scan_written_after_the_page_was_seen_is_counted_on_the_next_view(client_a, workspace_a, cast):
    trail = make_trail(workspace=workspace_a)
    first, second, _ = stops_of(trail, workspace_a)
    make_scan(workspace=workspace_a, stop=first, at=now_in(workspace_a), visitor="ann")
    client_a.force_login(cast.viewer)
    assert "Scans 1 " in text_of(client_a.get(PAGE))

    make_scan(workspace=workspace_a, stop=second, at=now_in(workspace_a), visitor="bob")

    assert "Scans 2 " in text_of(client_a.get(PAGE))
    report = report_for(workspace_a, days=7)
    assert (report.scans, report.visitors) == (2, 2)
    assert {row.label.split(" · ")[0]: row.scans for row in report.stops} == {"The Fountain": 1, "Clock Tower": 1}


def test_today_is_counted_once_for_the_whole_page_and_not_again_until_a_scan_comes_in(client_a, workspace_a, cast):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    make_scan(workspace=workspace_a, stop=stop, at=now_in(workspace_a), visitor="ann")
    client_a.force_login(cast.viewer)

    assert raw_counts(lambda: client_a.get(PAGE)) == 1
    # Another range, bots shown, a trail chosen, the dashboard's home: the same raw rows of today.
    assert raw_counts(lambda: client_a.get(PAGE)) == 0
    assert raw_counts(lambda: client_a.get(f"/dashboard/analytics/?range=30&bots=on&trail={trail.pk}")) == 0
    assert raw_counts(lambda: client_a.get("/dashboard/")) == 0

    make_scan(workspace=workspace_a, stop=stop, at=now_in(workspace_a), visitor="bob")

    assert raw_counts(lambda: client_a.get(PAGE)) == 1
    assert "Scans 2 " in text_of(client_a.get(PAGE))


def test_a_new_first_stop_changes_todays_funnel_though_no_scan_came_in(workspace_a):
    trail = make_trail(workspace=workspace_a)
    first, second, third = stops_of(trail, workspace_a)
    for visitor, stops in {"ann": [first, second, third], "bob": [second, third], "cat": [third]}.items():
        for stop in stops:
            make_scan(workspace=workspace_a, stop=stop, at=now_in(workspace_a), visitor=visitor)
    assert [step.visitors for step in report_for(workspace_a).funnels[0].steps] == [1, 1, 1]

    with schema_context(workspace_a.schema_name):
        trail.set_source(
            trail_markdown(
                stops=[("bridge", "The Bridge"), ("fountain", "The Fountain"), ("clock-tower", "Clock Tower")]
            )
        )

    (funnel,) = report_for(workspace_a).funnels
    assert [(step.title, step.visitors) for step in funnel.steps] == [
        ("The Bridge", 3),
        ("The Fountain", 1),
        ("Clock Tower", 2),
    ]


def test_a_workspace_never_gets_the_counts_kept_for_another_even_with_the_same_ids(workspace_a, workspace_b):
    for workspace, visitors in ((workspace_a, ["ann", "bob", "cat"]), (workspace_b, ["dan"])):
        with schema_context(workspace.schema_name), connection.cursor() as cursor:
            # Both workspaces' stops, and their newest scans, get the same ids: only the workspace tells them apart.
            cursor.execute("SELECT setval(pg_get_serial_sequence('trails_stop', 'id'), 7000000000)")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('scans_scan', 'id'), 7000000000 - %s)", [len(visitors)]
            )
        stop = stops_of(make_trail(workspace=workspace), workspace)[0]
        for visitor in visitors:
            make_scan(workspace=workspace, stop=stop, at=now_in(workspace), visitor=visitor)

    assert report_for(workspace_a, days=1).scans == 3
    assert report_for(workspace_b, days=1).scans == 1
    with schema_context(workspace_b.schema_name):
        assert home_summary(workspace=workspace_b).today == 1


def test_the_numbers_are_the_same_counted_from_the_raw_scans_alone(workspace_a):
    trail = make_trail(workspace=workspace_a)
    first, second, third = stops_of(trail, workspace_a)
    for days in (9, 3, 1, 0):
        for visitor, stops in {"ann": [first, second, third], "bob": [first, third], "bot": [second]}.items():
            for stop in stops:
                at = now_in(workspace_a) if days == 0 else timezone.now() - datetime.timedelta(days=days)
                make_scan(workspace=workspace_a, stop=stop, at=at, visitor=visitor, is_bot=visitor == "bot")

    for bots in (False, True):
        kept = report_for(workspace_a, days=7, include_bots=bots)
        kept_again = report_for(workspace_a, days=7, include_bots=bots)
        raw = report_for(workspace_a, days=7, include_bots=bots, raw_only=True)
        for report in (kept, kept_again):
            assert [(p.day, p.scans, p.visitors) for p in report.days] == [
                (p.day, p.scans, p.visitors) for p in raw.days
            ]
            assert (report.scans, report.previous_scans, report.bot_scans) == (
                raw.scans,
                raw.previous_scans,
                raw.bot_scans,
            )
            assert [(r.key, r.scans, r.visitors) for r in report.stops] == [
                (r.key, r.scans, r.visitors) for r in raw.stops
            ]
            assert report.breakdowns == raw.breakdowns
            assert [[s.visitors for s in f.steps] for f in report.funnels] == [
                [s.visitors for s in f.steps] for f in raw.funnels
            ]
