"""The scan writer's database connection is replaced once it has touched many workspaces' schemas.

A PostgreSQL backend keeps the catalog entries of every table it has touched for as long as it lives: a writer
serving thousands of workspaces would otherwise grow its backend without bound (bench/scale.py measures it).
"""

from __future__ import annotations

import pytest
from django.db import connection

from scans import queue, worker
from scans.recording import PendingScan, new_uid


def _scan_of(schema: str) -> queue.Entry:
    # Of a workspace since deleted: the writer looks its schema up, drops the scan, and has touched the schema.
    scan = PendingScan(
        uid=new_uid(),
        schema=schema,
        stop_id=1,
        trail_id=1,
        scanned_at="2026-11-30T10:00:00+00:00",
        user_agent="",
        method="GET",
        referrer="",
        country="",
        ip="",
        visitor="",
    )
    return queue.Entry(data=scan.to_line())


def _backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def writer(django_db_setup, django_db_blocker, settings, tmp_path, monkeypatch):
    """A writer fed batches by the test, outside a test transaction (a connection can't be closed inside one)."""
    settings.SCAN_SPOOL_DIR = tmp_path
    settings.REDIS_URL = ""
    settings.SCHEMAS_PER_CONNECTION = 3
    with django_db_blocker.unblock():
        # A connection of its own: earlier tests' requests counted their schemas against the one they used (the
        # budget is per connection), which made this module's outcome depend on which tests ran before it.
        connection.close()
        writer = worker.ScanWriter(consumer="test")
        batches: list[list[queue.Entry]] = []
        monkeypatch.setattr(writer, "_read", lambda wait: batches.pop(0) if batches else [])
        writer.batches = batches
        yield writer
        writer.close()


def test_the_writer_keeps_its_connection_while_it_has_touched_few_schemas(writer):
    writer.batches += [[_scan_of("gone_a"), _scan_of("gone_b")]]
    first = _backend()
    writer.step(wait=False)
    assert _backend() == first


def test_the_writer_opens_a_fresh_connection_after_touching_many_schemas(writer):
    writer.batches += [[_scan_of("gone_a"), _scan_of("gone_b")], [_scan_of("gone_b"), _scan_of("gone_c")]]
    first = _backend()
    writer.step(wait=False)
    assert _backend() == first
    writer.step(wait=False)  # a third schema
    second = _backend()
    assert second != first
    writer.batches += [[_scan_of("gone_a")]]
    writer.step(wait=False)  # counted afresh on the new connection
    assert _backend() == second


def test_the_writer_never_closes_a_connection_in_a_transaction(db, settings, tmp_path, monkeypatch):
    """(This test's `db` also makes pytest-django create the test database when this module runs alone.)"""
    settings.SCAN_SPOOL_DIR = tmp_path
    settings.REDIS_URL = ""
    settings.SCHEMAS_PER_CONNECTION = 1
    writer = worker.ScanWriter(consumer="test")
    monkeypatch.setattr(writer, "_read", lambda wait: [_scan_of("gone_a"), _scan_of("gone_b")])
    first = _backend()
    writer.step(wait=False)
    assert _backend() == first
    writer.close()
