from __future__ import annotations

import csv
import datetime
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from scans.analytics import Filters, Period, build_report
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail, trail_markdown

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.1 Mobile/15E148 Safari/604.1"
)


def stops_of(trail, workspace):
    with schema_context(workspace.schema_name):
        return list(trail.live_stops())


def days_ago(days: int, *, hour: int = 12, tz: str = "UTC") -> datetime.datetime:
    today = timezone.now().astimezone(ZoneInfo(tz)).date()
    return datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time(hour), tzinfo=ZoneInfo(tz))


def report_for(workspace, *, days: int = 30, trail=None, include_bots: bool = False, raw_only: bool = False):
    today = workspace.today()
    period = Period(today - datetime.timedelta(days=days - 1), today)
    with schema_context(workspace.schema_name):
        return build_report(
            workspace=workspace, filters=Filters(period, trail, include_bots), today=today, raw_only=raw_only
        )


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_funnel_counts_how_many_starters_reached_each_stop_the_same_day(workspace_a):
    trail = make_trail(workspace=workspace_a)
    first, second, third = stops_of(trail, workspace_a)
    walks = {"ann": [first, second, third], "bob": [first, second], "cat": [first], "dan": [second, third]}
    for visitor, stops in walks.items():
        for stop in stops:
            make_scan(workspace=workspace_a, stop=stop, at=days_ago(3), visitor=visitor)
    # Yesterday's hashes are other people, as far as anyone can tell: ann's third stop the next day is not hers.
    make_scan(workspace=workspace_a, stop=third, at=days_ago(2), visitor="ann")

    (funnel,) = report_for(workspace_a).funnels

    assert [(step.title, step.visitors) for step in funnel.steps] == [
        ("The Fountain", 3),
        ("Clock Tower", 2),
        ("The Bridge", 1),
    ]
    assert [round(step.share) for step in funnel.steps] == [100, 67, 33]


def test_the_funnel_is_the_same_for_a_day_from_roll_ups_and_for_today_from_raw_rows(workspace_a):
    trail = make_trail(workspace=workspace_a)
    first, second, _ = stops_of(trail, workspace_a)
    for at in (days_ago(1), days_ago(0, hour=0)):
        make_scan(workspace=workspace_a, stop=first, at=at, visitor="ann")
        make_scan(workspace=workspace_a, stop=second, at=at, visitor="ann")
        make_scan(workspace=workspace_a, stop=first, at=at, visitor="bob")

    (funnel,) = report_for(workspace_a, days=2).funnels

    assert [step.visitors for step in funnel.steps] == [4, 2, 0]


def test_a_visitor_counts_once_a_day_and_again_after_the_salt_changes(client_a, workspace_a, monkeypatch):
    trail = make_trail(workspace=workspace_a)
    first, second, _ = stops_of(trail, workspace_a)
    for at, stop in [(days_ago(2, hour=9), first), (days_ago(2, hour=10), second), (days_ago(1, hour=9), first)]:
        monkeypatch.setattr(timezone, "now", lambda at=at: at)
        client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE, REMOTE_ADDR="81.2.69.160")
    monkeypatch.undo()

    report = report_for(workspace_a, days=7)

    assert (report.scans, report.visitors) == (3, 2)
    assert [(point.scans, point.visitors) for point in report.days[-3:-1]] == [(2, 1), (1, 1)]


def test_bots_are_left_out_unless_asked_for(workspace_a):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(1), visitor="person")
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(1), visitor="crawler", is_bot=True)
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(0, hour=0), visitor="crawler", is_bot=True)

    without = report_for(workspace_a, days=7)
    with_bots = report_for(workspace_a, days=7, include_bots=True)

    assert (without.scans, without.visitors, without.bot_scans) == (1, 1, 2)
    assert (with_bots.scans, with_bots.visitors) == (3, 3)
    assert [row.label for row in without.breakdowns["Devices"]] == ["Mobile"]
    assert {row.label: row.scans for row in with_bots.breakdowns["Devices"]} == {"Bot": 2, "Mobile": 1}


def test_the_page_toggles_bots_from_the_url(client_a, workspace_a, cast):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(1), visitor="crawler", is_bot=True)
    client_a.force_login(cast.viewer)

    assert "Scans 0 " in text_of(client_a.get("/dashboard/analytics/"))
    assert "Scans 1 " in text_of(client_a.get("/dashboard/analytics/?range=7&bots=on"))


def test_totals_are_compared_with_the_period_before(workspace_a):
    trail = make_trail(workspace=workspace_a)
    stop = stops_of(trail, workspace_a)[0]
    for visitor in ["a", "b"]:
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(8), visitor=visitor)
    for visitor in ["a", "b", "c"]:
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(1), visitor=visitor)

    report = report_for(workspace_a, days=7)

    assert (report.scans, report.previous_scans) == (3, 2)
    assert report.scans_change_text == "Up 50%"


def test_top_trails_stops_and_breakdowns_have_counts_and_shares(workspace_a):
    walk = make_trail(workspace=workspace_a)
    ride = make_trail(workspace=workspace_a, source=trail_markdown(title="Bike Ride", stops=[("start", "Start")]))
    fountain = stops_of(walk, workspace_a)[0]
    start = stops_of(ride, workspace_a)[0]
    make_scan(
        workspace=workspace_a, stop=fountain, at=days_ago(1), visitor="a", referrer="https://www.Example.org/x?y=1"
    )
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(1), visitor="b", country="FR")
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(1), visitor="c", country="")
    make_scan(
        workspace=workspace_a, stop=start, at=days_ago(0, hour=0), visitor="a", referrer="android-app://com.slack"
    )

    report = report_for(workspace_a, days=7)

    assert [(row.label, row.scans, round(row.share)) for row in report.trails] == [
        ("Old Town Walk", 3, 75),
        ("Bike Ride", 1, 25),
    ]
    assert report.stops[0].label == "The Fountain · Old Town Walk"
    assert {row.label: row.scans for row in report.breakdowns["Countries"]} == {"GB": 2, "FR": 1, "Unknown": 1}
    assert {row.label: row.scans for row in report.breakdowns["Referrers"]} == {
        "Direct or unknown": 2,
        "www.example.org": 1,
        "com.slack": 1,
    }
    assert report.visitors == 3 + 1  # "a" on two different days


def test_one_trail_can_be_chosen(workspace_a):
    walk = make_trail(workspace=workspace_a)
    ride = make_trail(workspace=workspace_a, source=trail_markdown(title="Bike Ride", stops=[("start", "Start")]))
    make_scan(workspace=workspace_a, stop=stops_of(walk, workspace_a)[0], at=days_ago(1), visitor="a")
    make_scan(workspace=workspace_a, stop=stops_of(ride, workspace_a)[0], at=days_ago(1), visitor="a")

    report = report_for(workspace_a, days=7, trail=ride)

    assert (report.scans, report.visitors) == (1, 1)
    assert [row.label for row in report.stops] == ["Start · Bike Ride"]


@pytest.mark.parametrize("hx", [False, True])
def test_the_page_shows_the_chart_and_a_table_and_htmx_gets_only_the_report(client_a, workspace_a, cast, hx):
    trail = make_trail(workspace=workspace_a)
    make_scan(workspace=workspace_a, stop=stops_of(trail, workspace_a)[0], at=days_ago(1))
    client_a.force_login(cast.owner)

    response = client_a.get("/dashboard/analytics/?range=7", **({"HTTP_HX_REQUEST": "true"} if hx else {}))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page and "1 scans, 1 visitors" in page
    assert "<table" in page and "Old Town Walk" in page
    assert ("<nav" in page) is not hx
    assert 'href="/dashboard/analytics/scans.csv?range=7"' in page


def test_a_reversed_custom_range_is_explained(client_a, workspace_a, cast):
    client_a.force_login(cast.owner)

    response = client_a.get("/dashboard/analytics/?range=custom&start=2025-03-10&end=2025-03-01")

    assert response.status_code == 200
    assert "The first day must come before the last." in response.content.decode()


def test_a_custom_range_shows_those_days(client_a, workspace_a, cast):
    trail = make_trail(workspace=workspace_a)
    at = days_ago(40)
    make_scan(workspace=workspace_a, stop=stops_of(trail, workspace_a)[0], at=at)
    client_a.force_login(cast.owner)
    day = at.date().isoformat()

    response = client_a.get(f"/dashboard/analytics/?range=custom&start={day}&end={day}")

    assert "Scans 1 " in text_of(response)


def test_scans_are_counted_by_the_language_served_on_closed_days_and_today(workspace_a, cast, client_a):
    fountain = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]
    for language, at in (("fr", days_ago(1)), ("fr", days_ago(0, hour=0)), ("en", days_ago(2)), ("", days_ago(3))):
        make_scan(workspace=workspace_a, stop=fountain, at=at, language=language)
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(1), language="ja", is_bot=True)

    report = report_for(workspace_a, days=7)

    assert {row.label: row.scans for row in report.breakdowns["Languages"]} == {
        "Français (French)": 2,
        "English": 1,
        "Unknown (before languages)": 1,
    }
    client_a.force_login(cast.viewer)
    page = text_of(client_a.get("/dashboard/analytics/?days=7"))
    assert "Languages" in page and "Français (French)" in page


def test_the_language_filter_counts_only_scans_served_in_that_language(workspace_a, cast, client_a):
    fountain, tower, _ = stops_of(make_trail(workspace=workspace_a), workspace_a)
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(2), visitor="a", language="fr")
    make_scan(workspace=workspace_a, stop=tower, at=days_ago(0, hour=0), visitor="a", language="fr")
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(1), visitor="b", language="de")
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(1), visitor="c", language="")
    today = workspace_a.today()
    period = Period(today - datetime.timedelta(days=6), today)

    with schema_context(workspace_a.schema_name):
        french = build_report(workspace=workspace_a, filters=Filters(period, language="fr"), today=today)

    assert (french.scans, french.visitors) == (2, 2)
    assert {row.label: row.scans for row in french.stops} == {
        "The Fountain · Old Town Walk": 1,
        "Clock Tower · Old Town Walk": 1,
    }
    assert [row.label for row in french.breakdowns["Languages"]] == ["Français (French)"]
    client_a.force_login(cast.viewer)
    page = client_a.get("/dashboard/analytics/?range=7&language=de")
    assert '<option value="de" selected>Deutsch (German)</option>' in page.content.decode()
    assert "Deutsch (German)" in text_of(page)
    export = b"".join(client_a.get("/dashboard/analytics/scans.csv?range=7&language=de").streaming_content).decode()
    (german,) = list(csv.DictReader(io.StringIO(export)))
    assert (german["visitor"], german["language"]) == ("b", "de")


def test_a_language_too_slow_to_count_is_refused_with_a_reason_and_every_language_shown(
    workspace_a, cast, client_a, monkeypatch
):
    import scans.analytics

    fountain, *_ = stops_of(make_trail(workspace=workspace_a), workspace_a)
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(0, hour=0), visitor="a", language="fr")
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(0, hour=0), visitor="b", language="de")
    # Raw scans that take longer than a page may to count: each count sleeps 0.3 s, the limit is 0.1 s.
    slow = scans.analytics.LIVE_SQL.rstrip().removesuffix("FROM dimension_rows)")
    monkeypatch.setattr(
        scans.analytics,
        "LIVE_SQL",
        f"{slow} FROM dimension_rows WHERE (SELECT pg_sleep(0.3)::text) IS NOT NULL)",
    )
    monkeypatch.setattr(scans.analytics, "RAW_COUNT_TIMEOUT_MS", 100)
    client_a.force_login(cast.viewer)

    page = client_a.get("/dashboard/analytics/?range=7&language=fr")

    text = page.content.decode()
    assert page.status_code == 200
    assert "too many scans in this range to count one language in time, so every language is shown" in text
    assert '<option value="fr" selected>' in text  # what was asked for is kept
    assert re.search(r"\b2\s*</strong>|>\s*2\s*<", text)  # every language's two scans
