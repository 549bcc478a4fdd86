"""Pages make the same number of queries for a trail of 3 stops as for one of 300: nothing is fetched per stop."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.middleware import forget_hosts
from scans.models import Scan
from tests.fixtures.trails import make_trail, make_translation, trail_markdown
from trails.pagecache import forget_pages

PAGES = [
    "/qr/{token}",
    "/dashboard/trails/{trail}/",
    "/dashboard/trails/{trail}/cards/",
    "/dashboard/trails/{trail}/cards/print",
    "/dashboard/trails/{trail}/cards.pdf",
    "/dashboard/trails/{trail}/stops/{stop}/qr.svg",
    "/dashboard/trails/",
    "/dashboard/",
    "/dashboard/analytics/?trail={trail}",
    "/dashboard/analytics/scans.csv?trail={trail}",
    "/dashboard/analytics/rollups.csv?trail={trail}",
    "/api/v1/trails/{trail}",
    "/api/v1/trails/{trail}/stops",
    "/api/v1/stats?trail={trail}",
    "/api/v1/scans?trail={trail}",
    "/qr/{token}?lang=fr",
    "/dashboard/trails/{trail}/languages/fr/",
    "/dashboard/analytics/?trail={trail}&language=fr",
    "/api/v1/trails/{trail}/translations",
    "/api/v1/trails/{trail}/translations/fr",
]


@pytest.fixture
def trails(workspace_a):
    """A trail of 3 stops and one of 300, each with a scan at every stop and a French translation."""
    made = {}
    for size in (3, 300):
        stops = [(f"s{i}", f"Stop {i}") for i in range(size)]
        trail = make_trail(workspace=workspace_a, source=trail_markdown(title=f"{size} stops", stops=stops))
        french = trail_markdown(title=f"{size} étapes", stops=[(key, f"Étape {i}") for i, (key, _) in enumerate(stops)])
        make_translation(workspace=workspace_a, trail=trail, language="fr", source=french)
        with schema_context(workspace_a.schema_name):
            made[size] = (trail, list(trail.live_stops()))
            now = timezone.now()
            Scan.objects.bulk_create(
                Scan(stop=stop, trail=trail, scanned_at=now, visitor=f"v{stop.pk}", language="fr")
                for stop in made[size][1]
            )
    return made


def queries(client, path: str) -> int:
    # Each request starts with cold process caches, so a cache that expires mid-test can't tell the sizes apart.
    forget_hosts()
    forget_pages()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries)


def test_no_page_makes_a_query_per_stop(client_a, cast, trails):
    client_a.force_login(cast.owner)
    differing = {}
    for page in PAGES:
        counts = {}
        for size, (trail, stops) in trails.items():
            path = page.format(trail=trail.pk, token=stops[1].token, stop=stops[1].pk)
            queries(client_a, path)  # anything done once (a day's roll-ups, a session) is done now
            counts[size] = queries(client_a, path)
        if counts[300] != counts[3]:
            differing[page] = counts
    assert differing == {}
