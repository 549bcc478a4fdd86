"""Hosts and scanner pages shared by every process in the cache: warm scans need no database, changes show at once.

"Another process" is this one with its own copies forgotten (what a process that never saw the page has): what it
then serves comes from the shared cache, or the database.
"""

from __future__ import annotations

import logging
import secrets

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts import middleware
from accounts.domains import add_domain
from accounts.models import Customer
from lib import shared
from lib.outage import database_outage
from lib.shared import SharedCopies, cache_outage
from scans import recording
from tests.fixtures.redis import redis_or_skip
from tests.fixtures.trails import make_trail, trail_markdown
from trails import pagecache
from trails.models import Stop

MUSEUM = "tour.museum.example"


def another_process() -> None:
    """Forget what this process keeps of its own (hosts, pages, salts); the shared cache stays."""
    middleware._hosts.clear()
    pagecache.pages.clear()
    recording._salts.clear()


def redis_cache(location: str) -> dict:
    from django.conf import settings

    return settings.CACHES | {
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
            "KEY_PREFIX": f"test-{secrets.token_hex(4)}",  # this run's own keys in the tests' Redis database
        }
    }


@pytest.fixture
def trail_a(workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context(workspace_a.schema_name):
        return trail, list(trail.live_stops())


def scan(client, stop: Stop):
    return client.get(f"/qr/{stop.token}")


def test_a_page_another_process_rendered_is_served_without_touching_the_database(client_a, trail_a, settings, tmp_path):
    settings.CACHES = redis_cache(redis_or_skip())
    settings.SCANS_QUEUE, settings.SCAN_SPOOL_DIR = "spool", tmp_path  # as in production: not written in the request
    _, (stop, *_) = trail_a
    another_process()  # what earlier tests left in this process was never shared
    first = scan(client_a, stop)
    another_process()

    with CaptureQueriesContext(connection) as queries:
        again = scan(client_a, stop)

    assert again.status_code == 200 and again.content == first.content
    assert again["Content-Security-Policy"] == first["Content-Security-Policy"]
    assert [query["sql"] for query in queries.captured_queries] == []


def test_the_same_token_in_two_workspaces_shows_each_its_own_page(client_a, client_b, trail_a, workspace_b):
    _, (stop_a, *_) = trail_a
    other = make_trail(workspace=workspace_b, source=trail_markdown(title="Harbour Walk"))
    with schema_context(workspace_b.schema_name):
        Stop.objects.filter(trail=other, position=1).update(token=stop_a.token)
    assert "Old Town Walk" in scan(client_a, stop_a).content.decode()
    another_process()

    page_b = scan(client_b, stop_a).content.decode()

    assert "Harbour Walk" in page_b and "Old Town Walk" not in page_b


# Changes show on the next scan, whichever process answers it ----------------------------------------------------


def scanned_after(client, stop: Stop, change) -> str:
    """The page after `change`, in a process whose own copy is gone: the shared cache must have forgotten it."""
    assert scan(client, stop).status_code == 200  # kept: in this process and in the shared cache
    change()
    another_process()
    response = scan(client, stop)
    return f"{response.status_code} {response.content.decode()}"


def in_workspace(workspace, action):
    def change():
        with schema_context(workspace.schema_name):
            action()

    return change


def test_an_edit_shows_on_the_next_scan(client_a, trail_a, workspace_a):
    trail, (stop, *_) = trail_a
    page = scanned_after(client_a, stop, in_workspace(workspace_a, lambda: trail.change(title="New Town Walk")))
    assert page.startswith("200") and "New Town Walk" in page


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        ("unpublish", "404"),
        ("archive", "404"),
        ("delete_softly", "410"),  # its stops retired
    ],
)
def test_closing_or_removing_a_trail_shows_on_the_next_scan(client_a, trail_a, workspace_a, action, shown):
    trail, (stop, *_) = trail_a
    page = scanned_after(client_a, stop, in_workspace(workspace_a, getattr(trail, action)))
    assert page.startswith(shown)


def test_a_stop_retired_by_an_edit_shows_gone_on_the_next_scan(client_a, trail_a, workspace_a):
    trail, (first, second, third) = trail_a
    without_second = trail_markdown(stops=[("fountain", "The Fountain"), ("bridge", "The Bridge")])
    page = scanned_after(client_a, second, in_workspace(workspace_a, lambda: trail.set_source(without_second)))
    assert page.startswith("410")


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("name", "Museum of the Harbour", "Museum of the Harbour"),
        ("website", "https://harbour.example/", 'href="https://harbour.example/"'),
        ("accent_colour", "#8a3b12", "--accent:#8a3b12"),
    ],
)
def test_a_change_of_workspace_branding_shows_on_the_next_scan(client_a, trail_a, workspace_a, field, value, shown):
    _, (_, _, last) = trail_a  # the last stop links to the workspace's website
    workspace = Customer.objects.get(pk=workspace_a.pk)

    def change():
        setattr(workspace, field, value)
        workspace.save()

    assert shown in scanned_after(client_a, last, change)


def test_the_accent_colours_style_is_allowed_on_the_next_scan(client_a, trail_a, workspace_a):
    """The page's CSP comes from the workspace the host found: that copy must be forgotten too."""
    _, (stop, *_) = trail_a
    workspace = Customer.objects.get(pk=workspace_a.pk)
    scanned_after(client_a, stop, lambda: (setattr(workspace, "accent_colour", "#8a3b12"), workspace.save()))
    assert "'sha256-" in scan(client_a, stop)["Content-Security-Policy"]


def test_a_custom_domain_serves_once_verified_and_stops_once_removed(client_a, trail_a, workspace_a):
    from django.test import Client

    _, (stop, *_) = trail_a
    museum = Client(HTTP_HOST=MUSEUM)
    domain = add_domain(customer=workspace_a, name=MUSEUM)
    assert scan(museum, stop).status_code == 404  # not yet verified

    domain.verified_at = timezone.now()
    domain.save()
    another_process()
    assert scan(museum, stop).status_code == 200

    domain.remove()
    another_process()
    assert scan(museum, stop).status_code == 404


# The shared cache's own failures ----------------------------------------------------------------------------------


def test_with_redis_away_pages_answer_from_the_database_and_the_outage_is_logged_once(
    client_a, trail_a, settings, monkeypatch, caplog
):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(shared, "RETRY_SECONDS", 0.0)  # every request tries it again
    monkeypatch.setattr(shared, "_retry_at", 0.0)
    _, stops = trail_a

    with caplog.at_level(logging.WARNING):
        answers = []
        for stop in stops * 2:
            another_process()
            answers.append(scan(client_a, stop))
    cache_outage.recovered()

    assert [answer.status_code for answer in answers] == [200] * 6
    assert "Clock Tower" in answers[1].content.decode()
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("shared cache unavailable")
    assert database_outage._since is None


def test_a_value_made_before_a_change_is_not_kept_as_the_new_generations(db):
    """The generation is read before the page is rendered: a change saved meanwhile is never hidden by the old page."""
    copies: SharedCopies[str] = SharedCopies(f"test-{secrets.token_hex(4)}", seconds=lambda: 60, scope=str.upper)
    _, stamp = copies.load("alpha")  # a scan starts rendering the page as it was...
    copies.forget_scope("ALPHA")  # ...a change is saved...
    copies.save("alpha", "the page as it was", stamp)  # ...and the scan keeps what it rendered

    assert copies.load("alpha")[0] is None
    _, stamp = copies.load("alpha")
    copies.save("alpha", "the page as it is", stamp)
    assert copies.load("alpha")[0] == "the page as it is"
