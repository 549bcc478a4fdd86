"""The dashboard home: a checklist that ticks itself for a new workspace, live numbers and latest scans for a busy one."""

from __future__ import annotations

import re

from accounts.models import PrintedCard
from scans.analytics import Filters, Period, Report
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail
from tests.scans.test_analytics import days_ago, stops_of


def _checklist(client) -> dict[str, bool]:
    page = client.get("/dashboard/").content.decode()
    if 'data-testid="onboarding"' not in page:
        return {}
    items = re.findall(r"<li( class=\"done\")?><span class=\"tick\".*?</span>\s*<span>(.*?)</span></li>", page, re.S)
    return {re.sub(r"<[^>]+>|\(done\)", "", text).strip(): bool(done) for done, text in items}


def test_a_new_workspace_gets_a_checklist_that_ticks_itself_from_what_it_did(client_a, workspace_a, cast):
    client_a.force_login(cast.owner)
    assert _checklist(client_a) == {
        "Write a trail": False,
        "Publish it": False,
        "Print its cards": False,
        "Scan a card with your phone": False,
        "Invite a teammate": True,  # the cast's workspace has an editor and a viewer already
    }

    trail = make_trail(workspace=workspace_a, published=True)
    client_a.get(f"/dashboard/trails/{trail.pk}/cards/")  # showing the cards for printing is recorded
    make_scan(workspace=workspace_a, stop=stops_of(trail, workspace_a)[0], at=days_ago(0, hour=0))

    assert PrintedCard.objects.filter(domain__tenant=workspace_a).exists()
    assert _checklist(client_a) == {}  # all done: the checklist makes way


def test_a_busy_workspace_sees_today_the_week_the_month_its_latest_scans_and_top_stops(client_a, workspace_a, cast):
    trail = make_trail(workspace=workspace_a)
    fountain, tower = stops_of(trail, workspace_a)[:2]
    make_scan(workspace=workspace_a, stop=fountain, at=days_ago(20))
    make_scan(workspace=workspace_a, stop=tower, at=days_ago(3))
    make_scan(workspace=workspace_a, stop=tower, at=days_ago(0, hour=0), visitor="v2")
    client_a.force_login(cast.viewer)

    for path in ("/dashboard/", "/dashboard/live"):
        page = client_a.get(path).content.decode()
        counts = dict(re.findall(r'data-testid="scans-(\w+)">(\d+)<', page))
        assert counts == {"today": "1", "week": "2", "month": "3"}, path
        assert '<svg class="sparkline"' in page
        latest = page.split('id="latest-heading"')[1].split("</section>")[0]
        assert latest.index(tower.title) < latest.index("ago")
        top = page.split('id="top-heading"')[1].split("</section>")[0]
        assert tower.title in top and fountain.title not in top  # 20 days ago is not this week


def test_the_comparison_never_says_new_of_nothing():
    period = Period(days_ago(29).date(), days_ago(0).date())

    def sentence(now: int, before: int) -> str:
        return Report(Filters(period), [], now, 0, before, 0, 0, [], [], []).scans_comparison

    assert sentence(0, 0) == "None in the previous 30 days either."
    assert sentence(4, 0) == "New: none in the previous 30 days."
    assert sentence(3, 2) == "Up 50% on the previous 30 days (2)."
    assert sentence(2, 2) == "The same as the previous 30 days (2)."


def test_an_empty_period_says_what_to_do_instead_of_a_grid_of_nothing(client_a, cast):
    client_a.force_login(cast.owner)

    page = client_a.get("/dashboard/analytics/").content.decode()

    assert "Print your cards and scan one to see it here" in page
    assert "No scans." not in page and "New vs" not in page
    assert "doesn't update by itself" in page


def test_the_chart_labels_its_first_middle_and_last_day_outside_the_drawing(client_a, workspace_a, cast):
    trail = make_trail(workspace=workspace_a)
    make_scan(workspace=workspace_a, stop=stops_of(trail, workspace_a)[0], at=days_ago(1))
    client_a.force_login(cast.owner)

    page = client_a.get("/dashboard/analytics/?range=7").content.decode()

    first, last = days_ago(6).date(), days_ago(0).date()
    labels = re.search(r'<div class="chart-x"[^>]*>(.*?)</div>', page).group(1)
    assert re.findall(r"<span>(.*?)</span>", labels)[::2] == [f"{first.day} {first:%b}", f"{last.day} {last:%b}"]
    assert "<text" not in page.split('<svg class="chart"')[1].split("</svg>")[0]
