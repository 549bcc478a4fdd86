"""Scans over the API: a cursor-paged list, the CSV export, and the analytics page's stats."""

from __future__ import annotations

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail, trail_markdown


def _stops(trail):
    with schema_context("alpha"):
        return list(trail.live_stops())


def _at(days_ago: int, hour: int = 12) -> datetime.datetime:
    today = timezone.now().astimezone(datetime.UTC).date()
    return datetime.datetime.combine(
        today - datetime.timedelta(days=days_ago), datetime.time(hour), tzinfo=datetime.UTC
    )


@pytest.fixture
def scans(workspace_a, trail_a):
    """Five scans by people over three days (two at the same instant) and one by a bot."""
    first, second, _ = _stops(trail_a)
    made = [
        make_scan(workspace=workspace_a, stop=first, at=_at(2), visitor="ann"),
        make_scan(workspace=workspace_a, stop=first, at=_at(1), visitor="ann"),
        make_scan(workspace=workspace_a, stop=second, at=_at(1), visitor="ann"),
        make_scan(workspace=workspace_a, stop=first, at=_at(1, hour=15), visitor="bob"),
        make_scan(workspace=workspace_a, stop=second, at=_at(0, hour=0), visitor="bob", referrer="=HYPERLINK(1)"),
    ]
    make_scan(workspace=workspace_a, stop=first, at=_at(1), visitor="bot", is_bot=True)
    return made


def _ids(response) -> list[int]:
    return _ids_of(response.json())


def _ids_of(body: dict) -> list[int]:
    return [scan["id"] for scan in body["items"]]


def test_scans_are_listed_in_the_order_they_were_stored_without_bots(reader, scans):
    body = reader.get("/api/v1/scans").json()
    assert _ids_of(body) == [scan.pk for scan in scans]
    first = body["items"][0]
    assert (first["visitor"], first["is_bot"], first["country"], first["ip_network"]) == (
        "ann",
        False,
        "GB",
        "203.0.113.0",
    )
    assert len(reader.get("/api/v1/scans?include_bots=true").json()["items"]) == 6


def test_the_cursor_pages_through_every_scan_once_even_when_two_share_a_time(reader, scans):
    seen, cursor, pages = [], "", []
    while True:
        body = reader.get(f"/api/v1/scans?limit=2&cursor={cursor}").json()
        seen += _ids_of(body)
        pages.append((len(body["items"]), body["has_more"]))
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert seen == [scan.pk for scan in scans]
    assert pages == [(2, True), (2, True), (1, False)]


def test_the_last_cursor_picks_up_scans_that_came_in_since(reader, scans, workspace_a, trail_a):
    cursor = reader.get("/api/v1/scans").json()["next_cursor"]
    assert reader.get(f"/api/v1/scans?cursor={cursor}").json() == {
        "items": [],
        "next_cursor": cursor,
        "has_more": False,
    }
    new = make_scan(workspace=workspace_a, stop=_stops(trail_a)[2], at=timezone.now())
    assert _ids(reader.get(f"/api/v1/scans?cursor={cursor}")) == [new.pk]


def test_a_poller_gets_a_scan_stored_late_though_it_was_made_before_the_last_one_it_saw(reader, scans, workspace_a):
    """Scans reach the database a moment after they are made, and after an outage much later."""
    cursor = reader.get("/api/v1/scans").json()["next_cursor"]
    stop = _stops_of_scans(scans)[0]
    late = make_scan(workspace=workspace_a, stop=stop, at=_at(3))  # made three days ago, stored only now

    assert _ids(reader.get(f"/api/v1/scans?cursor={cursor}")) == [late.pk]


def test_a_cursor_from_before_scans_were_listed_by_id_still_works(reader, scans):
    import base64

    old = base64.urlsafe_b64encode(f"{scans[1].scanned_at.isoformat()}|{scans[1].pk}".encode()).decode()

    assert _ids(reader.get(f"/api/v1/scans?cursor={old}")) == [scan.pk for scan in scans[2:]]


def _stops_of_scans(scans):
    with schema_context("alpha"):
        return [scan.stop for scan in scans]


def test_scans_are_filtered_by_days_in_the_workspaces_time_zone_trail_and_stop(reader, scans, workspace_a):
    yesterday = (timezone.now().astimezone(datetime.UTC).date() - datetime.timedelta(days=1)).isoformat()
    assert _ids(reader.get(f"/api/v1/scans?start={yesterday}&end={yesterday}")) == [s.pk for s in scans[1:4]]
    assert _ids(reader.get(f"/api/v1/scans?stop={scans[2].stop_id}")) == [scans[2].pk, scans[4].pk]
    other = make_trail(workspace=workspace_a, source=trail_markdown(title="Other"))
    make_scan(workspace=workspace_a, stop=_stops(other)[0], at=_at(1))
    assert _ids(reader.get(f"/api/v1/scans?trail={scans[0].trail_id}")) == [s.pk for s in scans]
    assert _ids(reader.get("/api/v1/scans?trail=999999")) == []


def test_a_days_range_follows_the_workspaces_time_zone(reader, scans, workspace_a):
    # 00:00 UTC today is still yesterday in New York.
    type(workspace_a).objects.filter(pk=workspace_a.pk).update(time_zone="America/New_York")
    new_york_yesterday = timezone.now().astimezone(ZoneInfo("America/New_York")).date() - datetime.timedelta(days=1)
    day = new_york_yesterday.isoformat()
    listed = _ids(reader.get(f"/api/v1/scans?start={day}&end={day}"))
    expected = [
        scan.pk
        for scan in scans
        if scan.scanned_at.astimezone(ZoneInfo("America/New_York")).date() == new_york_yesterday
    ]
    assert listed == expected and scans[4].pk in expected


@pytest.mark.parametrize(
    "query",
    [
        "cursor=nonsense",
        "cursor=MjAyNi0wMS0wMXwx",  # "2026-01-01|1": no time zone
        "cursor=" + "A" * 201,
        "start=2026-02-30",
        "start=yesterday",
        "start=9999-12-31",
        "start=2026-05-02&end=2026-05-01",
        "limit=0",
        "limit=100000000000000000000000",
        "trail=-1",
        "stop=99999999999999999999999999",
        "include_bots=maybe",
    ],
)
def test_bad_filters_and_cursors_are_a_422_never_a_server_error(reader, scans, query):
    response = reader.get(f"/api/v1/scans?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_csv_export_streams_the_filtered_scans_with_formulas_defused(reader, scans):
    response = reader.get("/api/v1/scans/export.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="scans-alpha-first-last.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["visitor"] for row in rows] == ["ann", "ann", "ann", "bob", "bob"]
    assert rows[-1]["referrer"] == "'=HYPERLINK(1)"
    assert rows[0]["scanned_at"] == _at(2).isoformat()
    with_bots = reader.get(f"/api/v1/scans/export.csv?include_bots=true&stop={scans[0].stop_id}")
    assert len(list(csv.DictReader(io.StringIO(b"".join(with_bots.streaming_content).decode())))) == 4


# Stats ----------------------------------------------------------------------------------------------------


def _page_report(cast, query: str):
    client = Client(HTTP_HOST=cast.workspace_a.primary_host)
    client.force_login(cast.owner)
    return client.get(f"/dashboard/analytics/?{query}").context["report"]


def test_stats_are_the_analytics_pages_numbers_for_the_same_days(reader, scans, cast):
    today = cast.workspace_a.today()
    start = (today - datetime.timedelta(days=6)).isoformat()
    stats = reader.get(f"/api/v1/stats?start={start}&end={today}").json()
    report = _page_report(cast, f"range=custom&start={start}&end={today}")

    assert stats["totals"] == {
        "scans": report.scans,
        "visitors": report.visitors,
        "bot_scans": report.bot_scans,
        "previous_scans": report.previous_scans,
        "previous_visitors": report.previous_visitors,
    }
    assert [(day["scans"], day["visitors"]) for day in stats["daily"]] == [(p.scans, p.visitors) for p in report.days]
    (funnel,) = stats["funnels"]
    assert [step["visitors"] for step in funnel["steps"]] == [step.visitors for step in report.funnels[0].steps]
    # And those numbers are right: 5 scans by people; ann and bob on day 1 count once each per day.
    assert (stats["totals"]["scans"], stats["totals"]["visitors"], stats["totals"]["bot_scans"]) == (5, 4, 1)
    assert [(day["scans"], day["visitors"]) for day in stats["daily"][-3:]] == [(1, 1), (3, 2), (1, 1)]
    # Starters are visitor-days at the first stop (ann twice, bob once); only ann, day 1, went on the same day.
    assert [step["visitors"] for step in funnel["steps"]] == [3, 1, 0]


def test_stats_default_to_the_last_30_days_and_filter_by_trail_and_bots(reader, scans, cast):
    stats = reader.get("/api/v1/stats").json()
    assert len(stats["daily"]) == 30 and stats["period"]["last"] == cast.workspace_a.today().isoformat()
    with_bots = reader.get(f"/api/v1/stats?include_bots=true&trail={scans[0].trail_id}").json()
    report = _page_report(cast, f"range=30&bots=on&trail={scans[0].trail_id}")
    assert with_bots["totals"]["scans"] == report.scans == 6
    assert with_bots["trail_id"] == scans[0].trail_id


@pytest.mark.parametrize(
    "query", ["start=2100-01-01", "start=2020-01-01&end=2026-01-01", "trail=999999", "end=nope", "start=0001-01-01"]
)
def test_stats_for_an_impossible_range_or_unknown_trail_are_a_422(reader, query):
    response = reader.get(f"/api/v1/stats?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
