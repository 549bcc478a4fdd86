"""The worker: writes queued scans, and runs the periodic jobs (roll-ups, retention purges).

`manage.py run_worker` runs one. Several may run at once, on several machines: each reads
its own share of the Redis stream, one per machine drains that machine's spool, and each
periodic job runs once per period whichever worker gets to it first.

Scans are acknowledged only after their transaction commits. While the database is away the
worker keeps its batch, retries with a growing pause, and logs once when the outage starts
and once when it ends, rather than once per attempt.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, close_old_connections, connection

from accounts.models import IdempotentRequest
from accounts.schemas import touched_schemas
from lib.outage import Outage
from scans import queue
from scans.recording import PendingScan, write_scans

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
IDLE_WAIT_SECONDS = 0.2
GATHER_SECONDS = 0.25
MAX_RETRY_WAIT_SECONDS = 5.0


class ScanWriter:
    """Moves scans from the queue(s) to the database, a batch at a time."""

    def __init__(self, *, consumer: str | None = None) -> None:
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.spool = queue.SpoolReader(settings.SCAN_SPOOL_DIR)
        self.stream = queue.StreamReader(queue.redis_client(), self.consumer) if settings.REDIS_URL else None
        self.unwritten: list[queue.Entry] = []  # a batch the database refused: tried again before anything new
        self.database = Outage("database", logger)
        self.redis = Outage("Redis", logger)
        self._failures = 0

    def step(self, *, wait: bool = True) -> int:
        """Write one batch; returns how many scans it held. With `wait`, an empty queue is waited on a little."""
        entries = self.unwritten or self._read(wait=wait)
        if not entries:
            return 0
        scans = _decode(entries)
        try:
            stored = write_scans(scans)
        except DatabaseError as error:
            self.unwritten = entries
            self.database.failed(error, note=f"{len(entries)} scans wait in the queue")
            if not connection.in_atomic_block:
                connection.close()  # a broken connection is replaced on the next try
            self._failures += 1
            time.sleep(min(0.25 * 2**self._failures, MAX_RETRY_WAIT_SECONDS))
            return 0
        self.database.recovered()
        self._failures = 0
        # Its connection is replaced after some hundreds of schemas, so its backend's catalog caches stay small.
        touched_schemas({scan.schema for scan in scans})
        self.unwritten = []
        self._acknowledge(entries)
        if wait and len(entries) < BATCH_SIZE:
            # Not a full batch: let scans gather a moment, so each commit carries many (a commit's fixed cost,
            # paid by the same machine's web processes, is most of a small batch's).
            time.sleep(GATHER_SECONDS)
        if stored < len(scans):
            logger.info(
                "%d of %d scans were stored already (a replay after a restart)", len(scans) - stored, len(scans)
            )
        return len(entries)

    def _read(self, *, wait: bool) -> list[queue.Entry]:
        entries = self.spool.read(BATCH_SIZE)
        if self.stream is not None and len(entries) < BATCH_SIZE:
            block = int(IDLE_WAIT_SECONDS * 1000) if wait and not entries else 0
            try:
                entries += self.stream.read(BATCH_SIZE - len(entries), block_ms=block)
                self.redis.recovered()
            except Exception as error:  # Redis away: the web processes spool to disk meanwhile
                self.redis.failed(error)
                if wait:
                    time.sleep(IDLE_WAIT_SECONDS)
        elif not entries and wait:
            time.sleep(IDLE_WAIT_SECONDS)
        return entries

    def _acknowledge(self, entries: list[queue.Entry]) -> None:
        self.spool.commit(entries)
        if self.stream is not None and any(entry.stream_id for entry in entries):
            # Should this fail, the entries stay pending: another worker (or this one) claims them in a
            # minute and writes them again, and their uids keep them from being stored twice.
            try:
                self.stream.commit(entries)
            except Exception as error:
                self.redis.failed(error)

    def close(self) -> None:
        self.spool.release()


def _decode(entries: list[queue.Entry]) -> list[PendingScan]:
    scans = []
    for entry in entries:
        try:
            scans.append(PendingScan.from_line(entry.data))
        except (ValueError, TypeError):
            logger.error("dropped a queued scan that can't be read: %r", entry.data[:200])
    return scans


# Periodic jobs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[], object]
    # Claimed per period through the cache, so one worker of many runs it; a job that shares its work out
    # itself (e-mails: each worker takes rows the others haven't locked) needn't be.
    claim: bool = True


def _each_workspace():
    """Every workspace in its schema, the connection replaced after some hundreds, as the writer's is."""
    from scans.rollups import workspaces

    for workspace in workspaces():
        yield workspace
        touched_schemas([workspace.schema_name])


def _build_rollups() -> None:
    from scans.rollups import build_rollups

    for workspace in _each_workspace():
        build_rollups(workspace=workspace)


def _purge_scans() -> None:
    from scans.rollups import purge_scans

    for workspace in _each_workspace():
        if deleted := purge_scans(workspace=workspace):
            logger.info("purged %d scans of %s", deleted, workspace.schema_name)


def _check_domains() -> None:
    from accounts.domains import check_domains

    logger.info("custom domains checked: %s", check_domains())


def _forget_idle_consumers() -> None:
    if settings.REDIS_URL:
        queue.StreamReader(queue.redis_client(), "janitor").forget_idle_consumers()


def _send_emails() -> None:
    from accounts.mail import send_queued_emails

    while send_queued_emails():
        pass


def _send_webhooks() -> None:
    from accounts.webhooks import send_due_webhooks

    deadline = time.monotonic() + 5  # a backlog must not keep the e-mails waiting long
    while send_due_webhooks() and time.monotonic() < deadline:
        pass


def _purge_webhook_events() -> None:
    from accounts.webhooks import purge_old_events

    if deleted := purge_old_events():
        logger.info("forgot %d webhook events older than their log keeps", deleted)


JOBS = (
    Job("send_emails", every_seconds=1, run=_send_emails, claim=False),
    Job("send_webhooks", every_seconds=1, run=_send_webhooks, claim=False),
    Job("purge_webhook_events", every_seconds=24 * 3600, run=_purge_webhook_events),
    Job("build_rollups", every_seconds=3600, run=_build_rollups),
    Job("purge_scans", every_seconds=24 * 3600, run=_purge_scans),
    Job("check_domains", every_seconds=3600, run=_check_domains),
    Job("forget_idle_consumers", every_seconds=3600, run=_forget_idle_consumers),
    Job("purge_idempotency_keys", every_seconds=24 * 3600, run=lambda: IdempotentRequest.objects.purge()),
)


def run_due_jobs(
    jobs: tuple[Job, ...] = JOBS, *, now: float | None = None, tried: dict[str, int] | None = None
) -> list[str]:
    """Run each job whose period has begun and that no worker has claimed for it yet; returns their names.

    A claim is a cache entry added for the period (an atomic add in Redis and the database cache alike).
    `tried` remembers, for one worker, the periods it has already asked about, so it asks the cache once a period.
    """
    now = time.time() if now is None else now
    ran = []
    for job in jobs:
        period = int(now // job.every_seconds)
        if tried is not None:
            if tried.get(job.name) == period:
                continue
            tried[job.name] = period
        if job.claim and not cache.add(f"worker-job:{job.name}:{period}", os.getpid(), timeout=job.every_seconds * 2):
            continue
        started = time.monotonic()
        try:
            job.run()
        except Exception:
            logger.exception("job %s failed; it runs again next period", job.name)
        else:
            if job.claim:  # the every-second ones would fill the log
                logger.info("job %s done in %.1f s", job.name, time.monotonic() - started)
        ran.append(job.name)
    return ran


def run_jobs_forever(stopping: threading.Event) -> None:
    """The jobs' own thread (and database connection), so a long roll-up never holds up scans."""
    tried: dict[str, int] = {}
    while not stopping.is_set():
        close_old_connections()
        try:
            run_due_jobs(tried=tried)
        except DatabaseError as error:
            logger.warning("periodic jobs skipped, the database is unavailable: %s", error)
            connection.close()
        stopping.wait(1)
    connection.close()


def run(stopping: threading.Event, *, jobs: bool = True) -> None:
    """Write scans until `stopping` is set, then finish the batch in hand."""
    writer = ScanWriter()
    job_thread = None
    if jobs:
        job_thread = threading.Thread(target=run_jobs_forever, args=(stopping,), name="jobs", daemon=True)
        job_thread.start()
    logger.info(
        "worker %s writing scans from %s", writer.consumer, "Redis and the spool" if writer.stream else "the spool"
    )
    try:
        while not stopping.is_set():
            writer.step()
        while writer.unwritten and writer.step(wait=False):
            pass
    finally:
        writer.close()
        if job_thread is not None:
            job_thread.join(timeout=5)
