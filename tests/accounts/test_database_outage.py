"""Pages while the database is away: a host seen before is still known; anything needing data is a 503, logged once."""

from __future__ import annotations

import logging

from django.db import OperationalError
from django_tenants.utils import schema_context

from accounts import middleware
from lib.outage import database_outage
from scans.models import ScanQuerySet


def lost(*args, **kwargs):
    raise OperationalError("connection to server lost")


def test_a_dashboard_page_is_a_503_to_retry_and_the_outage_is_logged_once(client_a, cast, monkeypatch, caplog):
    client_a.force_login(cast.owner)
    client_a.get("/dashboard/")
    monkeypatch.setattr(ScanQuerySet, "people", lost)

    with caplog.at_level(logging.INFO):
        answers = [client_a.get("/dashboard/") for _ in range(3)]
    database_outage.recovered()

    assert [answer.status_code for answer in answers] == [503] * 3
    assert answers[0]["Retry-After"] == "30" and "Back in a moment" in answers[0].content.decode()
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["database unavailable: connection to server lost"]


def test_a_host_never_seen_is_a_503_and_one_seen_before_is_still_known(client_a, workspace_a, monkeypatch):
    from accounts.middleware import forget_hosts

    assert client_a.get("/ping").status_code == 200  # the host is known, its copy kept
    monkeypatch.setattr(middleware, "served_tenant", lost)

    assert client_a.get("/ping").status_code == 200  # from the process's own memory, fresh or stale
    forget_hosts()
    assert client_a.get("/ping").status_code == 200  # from the machine's copy on disk
    assert client_a.get("/ping", HTTP_HOST="never-seen.qrcards.localhost").status_code == 503
    database_outage.recovered()


def test_a_scanner_page_never_seen_is_a_503_to_retry_and_one_seen_before_still_shows(
    client_a, workspace_a, monkeypatch
):
    from tests.fixtures.trails import make_trail
    from trails import views

    trail = make_trail(workspace=workspace_a)
    with schema_context(workspace_a.schema_name):
        seen, never_seen = (stop.token for stop in trail.live_stops()[:2])
    assert client_a.get(f"/qr/{seen}").status_code == 200
    monkeypatch.setattr(views, "_render_scanner_page", lost)

    stale, missing = client_a.get(f"/qr/{seen}"), client_a.get(f"/qr/{never_seen}")
    database_outage.recovered()

    assert stale.status_code == 200
    assert missing.status_code == 503 and missing["Retry-After"] == "30"
    assert "Back in a moment" in missing.content.decode()
