"""The hand-off of scans from a request to the worker: the spool on disk, Redis, and writing each scan once.

These run in-process; tests/scans/test_durability.py kills real processes and takes the database away.
"""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from django.db import OperationalError
from django_tenants.utils import schema_context

from scans import queue, recording, worker
from scans.models import Scan
from scans.recording import PendingScan, new_uid
from tests.fixtures.redis import redis_or_skip
from tests.scans.test_recording import FULL_IP, PHONE, first_stop


@pytest.fixture
def spool(settings, tmp_path, monkeypatch):
    settings.SCANS_QUEUE = "spool"
    settings.SCAN_SPOOL_DIR = tmp_path / "spool"
    monkeypatch.setattr(recording, "_spool", None)
    yield settings.SCAN_SPOOL_DIR
    recording.shutdown()


def spooled_lines(directory) -> list[PendingScan]:
    return [
        PendingScan.from_line(line)
        for path in sorted(directory.glob("*.scans"))
        for line in path.read_bytes().splitlines()
    ]


def stored(schema: str) -> int:
    with schema_context(schema):
        return Scan.objects.count()


def a_scan(*, stop, schema: str = "alpha", uid: str | None = None) -> PendingScan:
    return PendingScan(
        uid=uid or new_uid(),
        schema=schema,
        stop_id=stop.pk,
        trail_id=stop.trail_id,
        scanned_at="2026-11-30T10:00:00+00:00",
        user_agent=PHONE,
        method="GET",
        referrer="",
        country="GB",
        ip="81.2.69.0",
        visitor="0123456789abcdef",
    )


def test_a_scan_is_on_disk_before_its_page_is_answered_and_without_the_full_ip(client_a, workspace_a, spool):
    stop = first_stop(workspace_a)

    response = client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE, REMOTE_ADDR=FULL_IP)

    assert response.status_code == 200
    [line] = spooled_lines(spool)
    assert (line.schema, line.stop_id, line.ip, line.country) == ("alpha", stop.pk, "81.2.69.0", "GB")
    assert FULL_IP.encode() not in b"".join(path.read_bytes() for path in spool.glob("*.scans"))
    assert stored("alpha") == 0  # the worker writes it, not the request


def test_the_worker_writes_spooled_scans_to_each_workspace_and_deletes_files_let_go(
    client_a, client_b, workspace_a, workspace_b, spool
):
    stop_a, stop_b = first_stop(workspace_a), first_stop(workspace_b)
    for _ in range(3):
        client_a.get(f"/qr/{stop_a.token}", HTTP_USER_AGENT=PHONE)
    for _ in range(2):
        client_b.get(f"/qr/{stop_b.token}", HTTP_USER_AGENT=PHONE)
    writer = worker.ScanWriter(consumer="test")

    assert writer.step(wait=False) == 5
    assert (stored("alpha"), stored("bravo")) == (3, 2)
    assert list(spool.glob("*.scans")), "the web process still holds its file: it must stay"

    recording.shutdown()  # the web process lets go of its file (as at exit, or when it dies)
    assert writer.step(wait=False) == 0
    assert not list(spool.glob("*.scans")) and not list(spool.glob("*.done"))
    assert (stored("alpha"), stored("bravo")) == (3, 2)
    writer.close()


def test_a_new_drainer_resumes_where_the_last_commit_left_off_and_stores_nothing_twice(client_a, workspace_a, spool):
    stop = first_stop(workspace_a)
    for _ in range(2):
        client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    first = worker.ScanWriter(consumer="first")
    assert first.step(wait=False) == 2
    first.close()  # a worker that stops (or dies) after its commit

    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    second = worker.ScanWriter(consumer="second")
    assert second.step(wait=False) == 1  # only the new line: the .done file says where the last commit ended
    (spool_file,) = spool.glob("*.done")
    os.remove(spool_file)  # as if the worker died between its commit and recording it: everything is replayed
    second.close()
    third = worker.ScanWriter(consumer="third")
    assert third.step(wait=False) == 3
    third.close()

    assert stored("alpha") == 3


def test_only_one_drainer_per_spool_at_a_time(client_a, workspace_a, spool):
    stop = first_stop(workspace_a)
    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    first, second = worker.ScanWriter(consumer="first"), worker.ScanWriter(consumer="second")

    assert second.spool.acquire()
    assert first.step(wait=False) == 0
    second.close()
    assert first.step(wait=False) == 1
    first.close()


def test_a_batch_written_twice_is_stored_once(workspace_a):
    stop = first_stop(workspace_a)
    batch = [a_scan(stop=stop), a_scan(stop=stop)]

    assert recording.write_scans(batch) == 2
    assert recording.write_scans(batch) == 0
    assert stored("alpha") == 2


def test_scans_of_a_workspace_that_was_deleted_are_dropped_with_a_warning(workspace_a, caplog):
    stop = first_stop(workspace_a)

    with caplog.at_level(logging.WARNING, logger="scans.recording"):
        written = recording.write_scans([a_scan(stop=stop, schema="deleted-meanwhile"), a_scan(stop=stop)])

    assert written == 1
    assert "workspace deleted-meanwhile, which no longer exists" in caplog.text


def test_while_the_database_refuses_the_worker_keeps_its_batch_and_logs_the_outage_once(
    client_a, workspace_a, spool, monkeypatch, caplog
):
    stop = first_stop(workspace_a)
    for _ in range(4):
        client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    refusals = 3
    original = worker.write_scans

    def database_away_for_a_while(batch):
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise OperationalError("connection refused")
        return original(batch)

    monkeypatch.setattr(worker, "write_scans", database_away_for_a_while)
    monkeypatch.setattr(worker.time, "sleep", lambda seconds: None)
    writer = worker.ScanWriter(consumer="test")
    with caplog.at_level(logging.INFO, logger="scans.worker"):
        results = [writer.step(wait=False) for _ in range(4)]
    writer.close()

    assert results == [0, 0, 0, 4]
    assert stored("alpha") == 4
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and "database unavailable" in errors[0].getMessage()
    assert "database back after" in caplog.text and "3 failed attempts" in caplog.text


def test_an_unreadable_line_is_dropped_and_the_rest_written(workspace_a, spool, caplog):
    stop = first_stop(workspace_a)
    writer_side = queue.SpoolWriter(spool)
    writer_side.append(b"not json\n")
    writer_side.append(a_scan(stop=stop).to_line())
    writer = worker.ScanWriter(consumer="test")

    with caplog.at_level(logging.ERROR, logger="scans.worker"):
        assert writer.step(wait=False) == 2

    assert stored("alpha") == 1
    assert "can't be read" in caplog.text
    writer_side.close()
    writer.close()


# Redis ------------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_queue(settings, spool, monkeypatch):
    url = redis_or_skip()
    settings.REDIS_URL = url
    settings.SCANS_QUEUE = "redis"
    settings.SCAN_STREAM = f"qrcards:scans:test-{uuid.uuid4().hex}"  # several test runs may share a Redis
    monkeypatch.setattr(recording, "_redis", None)
    client = queue.redis_client()
    yield client
    client.delete(settings.SCAN_STREAM)


def test_with_redis_a_scan_goes_to_the_stream_and_is_deleted_once_written(
    client_a, workspace_a, spool, redis_queue, settings
):
    stop = first_stop(workspace_a)
    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    assert redis_queue.xlen(settings.SCAN_STREAM) == 1
    assert not spooled_lines(spool)

    writer = worker.ScanWriter(consumer="test")
    assert writer.step(wait=False) == 1
    writer.close()

    assert stored("alpha") == 1
    assert redis_queue.xlen(settings.SCAN_STREAM) == 0
    assert redis_queue.xpending(settings.SCAN_STREAM, queue.GROUP)["pending"] == 0


def test_scans_a_dead_worker_read_but_never_acknowledged_are_claimed_and_written_once(
    client_a, workspace_a, redis_queue, settings
):
    stop = first_stop(workspace_a)
    for _ in range(3):
        client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    dead = worker.ScanWriter(consumer="dead")
    read = dead.stream.read(10, block_ms=0)  # read, then died before writing
    assert len(read) == 3
    recording.write_scans(worker._decode(read[:1]))  # ...or died after writing one but before acknowledging

    settings.SCAN_CLAIM_IDLE_SECONDS = 0
    survivor = worker.ScanWriter(consumer="survivor")
    assert survivor.step(wait=False) == 3
    survivor.close()

    assert stored("alpha") == 3
    assert redis_queue.xpending(settings.SCAN_STREAM, queue.GROUP)["pending"] == 0


def test_when_redis_does_not_answer_scans_go_to_the_spool_and_redis_is_left_alone_a_while(
    client_a, workspace_a, spool, settings, monkeypatch, caplog
):
    import redis

    from lib.outage import Outage

    settings.SCANS_QUEUE = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    unreachable = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5)
    tries = []

    def xadd(*args, **kwargs):
        tries.append(1)
        return redis.Redis.xadd(unreachable, *args, **kwargs)

    unreachable.xadd = xadd
    monkeypatch.setattr(recording, "_redis", unreachable)
    monkeypatch.setattr(recording, "_redis_retry_at", 0.0)
    monkeypatch.setattr(recording, "redis_outage", Outage("Redis", recording.logger))
    stop = first_stop(workspace_a)

    with caplog.at_level(logging.WARNING, logger="scans.recording"):
        responses = [client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE) for _ in range(3)]

    assert [response.status_code for response in responses] == [200] * 3
    assert [line.stop_id for line in spooled_lines(spool)] == [stop.pk] * 3
    assert "go to the local spool" in caplog.text
    assert len(caplog.records) == 1, "the outage is logged once, not once per scan"
    assert len(tries) == 1, "Redis is tried again only after a pause, not for every scan"


def test_workers_gone_with_nothing_pending_leave_the_group_and_the_others_stay(client_a, workspace_a, redis_queue):
    stop = first_stop(workspace_a)
    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    finished, busy = worker.ScanWriter(consumer="finished"), worker.ScanWriter(consumer="busy")
    assert finished.step(wait=False) == 1  # read and acknowledged: nothing pending
    client_a.get(f"/qr/{stop.token}", HTTP_USER_AGENT=PHONE)
    assert len(busy.stream.read(10, block_ms=0)) == 1  # read, not yet acknowledged

    gone = busy.stream.forget_idle_consumers(idle_ms=0)

    assert gone == ["finished"]
    names = {consumer["name"] for consumer in redis_queue.xinfo_consumers(busy.stream.stream, queue.GROUP)}
    assert names in ({"busy"}, {b"busy"})
    finished.close()
    busy.close()
