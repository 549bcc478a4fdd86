"""Recording scans: quick on the request path, written to the database in batches.

The request does the privacy work at once, so the full IP address never leaves it:
country from the full address, then the address truncated and hashed with the
day's salt. What is left goes into a bounded in-process buffer; a background thread
parses user agents and writes rows with one `bulk_create` per workspace. A full
buffer is written by the request that finds it full (slower, never lost), and the
buffer is written on exit (atexit, and gunicorn's worker_exit hook).
"""

from __future__ import annotations

import atexit
import datetime
import logging
import queue
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from psycopg import sql

from scans.models import Scan, VisitorSalt
from scans.rollups import local_today
from scans.visitors import country_for_ip, describe_client, truncate_ip, visitor_hash

logger = logging.getLogger(__name__)

MAX_FIELD = 512
BATCH_SIZE = 1000
FLUSH_SECONDS = 0.25
BUFFER_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class PendingScan:
    schema: str
    stop_id: int
    trail_id: int
    scanned_at: datetime.datetime
    user_agent: str
    method: str
    referrer: str
    country: str
    ip: str
    visitor: str


_buffer: queue.Queue[PendingScan] = queue.Queue(maxsize=BUFFER_SIZE)
_salts: dict[tuple[str, datetime.date], bytes] = {}
_flusher: threading.Thread | None = None
_flusher_lock = threading.Lock()
_stopping = threading.Event()
_write_lock = threading.Lock()


def record_scan(*, stop_id: int, trail_id: int, request: HttpRequest) -> None:
    """Record that `request` scanned a stop. Never raises: a failure is logged, the page still shows."""
    try:
        _buffer_scan(_pending_scan(stop_id=stop_id, trail_id=trail_id, request=request))
    except Exception:
        logger.exception("could not record a scan of stop %s", stop_id)


def _pending_scan(*, stop_id: int, trail_id: int, request: HttpRequest) -> PendingScan:
    now = timezone.now()
    workspace = request.tenant
    ip = request.META.get("REMOTE_ADDR", "")
    # META, not request.headers: building the headers mapping costs more than the rest of this function.
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:MAX_FIELD].replace("\0", "")  # NUL: no row, no batch
    return PendingScan(
        schema=workspace.schema_name,
        stop_id=stop_id,
        trail_id=trail_id,
        scanned_at=now,
        user_agent=user_agent,
        method=request.method or "GET",
        referrer=request.META.get("HTTP_REFERER", "")[:MAX_FIELD].replace("\0", "")
        if workspace.record_referrer
        else "",
        country=country_for_ip(ip) if workspace.record_country else "",
        ip=truncate_ip(ip),
        # The salt changes at the workspace's midnight, so a visitor is one visitor for one day of its analytics.
        visitor=visitor_hash(ip=ip, user_agent=user_agent, salt=_salt(workspace.schema_name, local_today(workspace))),
    )


def warm_up() -> None:
    """Load the user-agent parsers and geo data now (~0.5 s) rather than on a scanner's first request."""
    describe_client("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148 Safari/604.1")
    country_for_ip("192.0.2.1")
    country_for_ip("8.8.8.8")


def _salt(schema: str, day: datetime.date) -> bytes:
    key = (schema, day)
    if key not in _salts:
        if len(_salts) > 10_000:
            _salts.clear()
        _salts[key] = VisitorSalt.objects.for_day(day)
    return _salts[key]


def _buffer_scan(scan: PendingScan) -> None:
    if not settings.SCANS_WRITE_BEHIND:
        write_scans([scan])
        return
    _ensure_flusher()
    try:
        _buffer.put_nowait(scan)
    except queue.Full:
        # The database is behind: write from the request rather than drop anything.
        flush()
        _buffer.put(scan)


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is not None and _flusher.is_alive():
        return
    with _flusher_lock:
        if _flusher is None or not _flusher.is_alive():
            _stopping.clear()
            _flusher = threading.Thread(target=_flush_forever, name="scan-flusher", daemon=True)
            _flusher.start()


def _flush_forever() -> None:
    while not _stopping.is_set():
        if batch := _take_batch(wait=FLUSH_SECONDS):
            _write_safely(batch)


def _take_batch(*, wait: float) -> list[PendingScan]:
    batch: list[PendingScan] = []
    deadline = time.monotonic() + wait
    while len(batch) < BATCH_SIZE:
        remaining = deadline - time.monotonic()
        try:
            batch.append(_buffer.get(timeout=remaining) if remaining > 0 else _buffer.get_nowait())
        except queue.Empty:
            break
    return batch


def flush() -> int:
    """Write every buffered scan now, in this thread. Returns how many were written."""
    written = 0
    while batch := _take_batch(wait=0):
        _write_safely(batch)
        written += len(batch)
    return written


def shutdown() -> None:
    """Stop the background writer, letting it finish its batch, then write what is left."""
    _stopping.set()
    if _flusher is not None and _flusher.is_alive():
        _flusher.join(timeout=10)
    flush()


def _write_safely(batch: list[PendingScan]) -> None:
    for attempt in (1, 2):
        try:
            write_scans(batch)
            return
        except Exception:
            # A broken connection is replaced on the next attempt.
            connection.close()
            if attempt == 2:
                logger.exception("could not write %d scans; they are lost", len(batch))


_COLUMNS = (
    "stop_id", "trail_id", "scanned_at", "device", "browser", "os",
    "user_agent", "referrer", "country", "ip", "visitor", "is_bot",
)  # fmt: skip


def write_scans(batch: list[PendingScan]) -> None:
    """Insert `batch` with one COPY per workspace schema, each in its own transaction.

    COPY rather than bulk_create: building ORM objects and SQL for every row held the GIL
    long enough to show in the scanner page's p99 (bench/scanner.py).
    """
    by_schema: dict[str, list[PendingScan]] = {}
    for scan in batch:
        by_schema.setdefault(scan.schema, []).append(scan)
    columns = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
    with _write_lock:
        for schema, scans in by_schema.items():
            table = sql.Identifier(schema, Scan._meta.db_table)
            statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(table=table, columns=columns)
            # The table is named with its schema: this thread's connection may be on any schema.
            with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(statement) as rows:
                for scan in scans:
                    rows.write_row(_scan_row(scan))


def _scan_row(scan: PendingScan) -> tuple:
    """The row for Scan's table, in _COLUMNS order."""
    client = describe_client(scan.user_agent, method=scan.method)
    return (
        scan.stop_id,
        scan.trail_id,
        scan.scanned_at,
        client.device,
        client.browser[:50],
        client.os[:50],
        scan.user_agent,
        scan.referrer,
        scan.country,
        scan.ip or None,
        scan.visitor,
        client.is_bot,
    )


atexit.register(shutdown)
