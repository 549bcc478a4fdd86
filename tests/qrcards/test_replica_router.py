"""Analytics read a streaming replica (DATABASE_REPLICA_URL); writes, and every other read, stay on the primary."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.workspaces import create_workspace
from qrcards.routers import analytics_reads
from scans.analytics import Filters, Period, build_report
from scans.models import Scan
from tests.fixtures.replica import wait_for_replay
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail


def test_without_a_replica_analytics_read_the_primary(db, workspace_a):
    """(This test's `db` also makes pytest-django create the test database when this module runs alone.)"""
    with tenant_context(workspace_a), analytics_reads() as alias:
        assert alias == "default"
        assert build_report(
            workspace=workspace_a, filters=Filters(period=Period(workspace_a.today(), workspace_a.today()))
        )


@contextmanager
def _replay_paused(alias: str):
    """The replica stops applying what the primary writes, so a row can be on the primary and not yet there."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture(scope="module")
def harbour(replica, django_db_blocker):
    """A workspace with a trail, committed (the replica sees only what the primary commits), its first stop, and another."""
    with django_db_blocker.unblock():
        owner = User.objects.create_user("owner@harbour.example", "irrelevant")
        workspace = create_workspace(name="Harbour", slug="harbour-replica", owner=owner)
        other = create_workspace(name="Inland", slug="inland-replica", owner=owner)
        trail = make_trail(workspace=workspace)
        with tenant_context(workspace):
            stop = trail.stops.order_by("position").first()
        try:
            yield workspace, stop, other
        finally:
            workspace.delete(force_drop=True)
            other.delete(force_drop=True)
            owner.delete()


def test_the_analytics_page_counts_from_the_replica(replica, harbour, django_db_blocker):
    workspace, stop, _ = harbour
    today = Filters(period=Period(workspace.today(), workspace.today()))
    with django_db_blocker.unblock(), tenant_context(workspace):
        make_scan(workspace=workspace, stop=stop, at=timezone.now(), visitor="seen")
        wait_for_replay(replica)
        assert build_report(workspace=workspace, filters=today).scans == 1

        with _replay_paused(replica):
            make_scan(workspace=workspace, stop=stop, at=timezone.now(), visitor="not-yet")
            # On the primary, not yet on the replica: the page's count says where it was read.
            assert Scan.objects.count() == 2
            assert build_report(workspace=workspace, filters=today).scans == 1

        wait_for_replay(replica)
        assert build_report(workspace=workspace, filters=today).scans == 2


def test_writes_made_while_reading_analytics_go_to_the_primary(replica, harbour, django_db_blocker):
    workspace, stop, _ = harbour
    with django_db_blocker.unblock(), tenant_context(workspace):
        before = Scan.objects.count()
        with _replay_paused(replica), analytics_reads() as alias:
            assert alias == replica
            make_scan(workspace=workspace, stop=stop, at=timezone.now(), visitor="written")  # the replica would refuse
            assert Scan.objects.count() == before  # read from the paused replica
        assert Scan.objects.count() == before + 1  # outside analytics: the primary


def test_the_replica_reads_the_workspace_of_the_request(replica, harbour, django_db_blocker):
    """django-tenants sets search_path per connection: the replica's must follow the request's tenant."""
    workspace, stop, other = harbour
    with django_db_blocker.unblock():
        make_scan(workspace=workspace, stop=stop, at=timezone.now(), visitor="harbour")
        wait_for_replay(replica)
        with tenant_context(workspace), analytics_reads():
            assert Scan.objects.exists()
        with tenant_context(other), analytics_reads():
            assert not Scan.objects.exists()
