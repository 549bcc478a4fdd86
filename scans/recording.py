"""Recording scans: handed to a durable queue on the request path, written to the database by the worker.

The request does the privacy work at once, so the full IP address never leaves it: the
country from the full address, then the address truncated and hashed with the day's salt.
What is left is one line of JSON, handed to the queue (scans/queue.py) before the page is
answered: a Redis stream in production, this process's spool file on local disk otherwise,
and the spool too whenever Redis doesn't answer. The worker (scans/worker.py) parses user
agents and writes scans with COPY, one transaction per workspace.

Every scan carries a `uid` made here, so a batch written twice (a worker that died after its
commit but before its acknowledgement) is stored once. Writes to one workspace's table take
turns (an advisory lock), so scan ids rise in the order scans are committed, and a client
following the API's cursor (ordered by id) never skips a scan written late.
"""

from __future__ import annotations

import datetime
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from psycopg import sql
from psycopg.errors import UniqueViolation

from accounts.webhooks import emit
from lib.networks import network_of_address, parse_ip
from lib.outage import Outage
from lib.shared import SharedCopies
from lib.timed import TimedCache
from scans import queue
from scans.models import Scan, VisitorSalt
from scans.visitors import country_for_ip, country_of, describe_client, visitor_hash

logger = logging.getLogger(__name__)

MAX_FIELD = 512
SALT_SECONDS = 2 * 24 * 3600
_salts: TimedCache[bytes] = TimedCache(size=10_000)
# Shared too (lib/shared.py), so traffic spread over many workspaces needs no query into each one's schema.
_shared_salts: SharedCopies[bytes] = SharedCopies("salt", seconds=lambda: SALT_SECONDS)
_spool: queue.SpoolWriter | None = None
_redis = None
_redis_retry_at = 0.0
REDIS_RETRY_SECONDS = 5.0
redis_outage = Outage("Redis", logger)


@dataclass(frozen=True, slots=True)
class PendingScan:
    uid: str
    schema: str
    stop_id: int
    trail_id: int
    scanned_at: str  # ISO 8601, with its offset
    user_agent: str
    method: str
    referrer: str
    country: str
    ip: str
    visitor: str
    language: str = ""  # last, with a default: lines spooled before it existed still read

    def to_line(self) -> bytes:
        """One line of JSON: the fields in order, as a list (asdict's deep copies cost more than the rest)."""
        return json.dumps([getattr(self, name) for name in self.__slots__], separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, data: bytes) -> PendingScan:
        return cls(*json.loads(data))


def new_uid() -> str:
    """A UUID that sorts by time (version 7 layout), so the uid index grows at its end like the table."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def record_scan(*, stop_id: int, trail_id: int, request: HttpRequest, language: str = "") -> None:
    """Record that `request` scanned a stop. Never raises: a failure is logged, the page still shows."""
    try:
        scan = _pending_scan(stop_id=stop_id, trail_id=trail_id, request=request, language=language)
        if settings.SCANS_QUEUE == "direct":
            write_scans([scan])
        else:
            hand_over(scan.to_line())
    except Exception:
        logger.exception("could not record a scan of stop %s", stop_id)


def hand_over(line: bytes) -> None:
    """Put one scan where it outlives this process: Redis if it answers, else the local spool.

    After Redis fails, scans go straight to the spool for REDIS_RETRY_SECONDS before Redis is tried
    again: an unreachable Redis costs one scan its timeout, not every scan. The outage is logged once.
    """
    global _redis, _spool, _redis_retry_at
    if settings.SCANS_QUEUE == "redis" and time.monotonic() >= _redis_retry_at:
        try:
            if _redis is None:
                _redis = queue.redis_client()
            _redis.xadd(settings.SCAN_STREAM, {"d": line})
            redis_outage.recovered()
            return
        except Exception as error:  # any Redis failure: the disk is the fallback
            redis_outage.failed(error, note="scans go to the local spool meanwhile")
            _redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
    if _spool is None:
        _spool = queue.SpoolWriter(settings.SCAN_SPOOL_DIR)
    _spool.append(line)


def _pending_scan(*, stop_id: int, trail_id: int, request: HttpRequest, language: str = "") -> PendingScan:
    workspace = request.tenant
    ip = request.META.get("REMOTE_ADDR", "")
    address = parse_ip(ip)  # once: the country, the network and the visitor all start from it
    # META, not request.headers: building the headers mapping costs more than the rest of this function.
    # PostgreSQL stores no NUL character: a header carrying one must not cost the scan.
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:MAX_FIELD].replace("\x00", "")
    referrer = request.META.get("HTTP_REFERER", "")[:MAX_FIELD].replace("\x00", "") if workspace.record_referrer else ""
    salt = _salt(workspace.schema_name, workspace.today())
    return PendingScan(
        uid=new_uid(),
        schema=workspace.schema_name,
        stop_id=stop_id,
        trail_id=trail_id,
        scanned_at=timezone.now().isoformat(),
        user_agent=user_agent,
        method=request.method or "GET",
        referrer=referrer,
        country=country_of(address) if workspace.record_country else "",
        ip=network_of_address(address),
        # The salt changes at the workspace's midnight, so a visitor is one visitor for one day of its analytics.
        # Without it (the database away since before this process first needed today's) the visitor is unknown.
        visitor=visitor_hash(ip=ip, user_agent=user_agent, salt=salt) if salt else "",
        language=language,
    )


def _salt(schema: str, day: datetime.date) -> bytes | None:
    """The workspace's key of the day: this process's copy, else the one every process shares, else the database's."""
    key = (schema, day)
    salt = _salts.get(key)
    if salt is None:
        shared_key = f"{schema}:{day.isoformat()}"
        salt, stamp = _shared_salts.load(shared_key)
        if salt is None:
            try:
                salt = VisitorSalt.objects.for_day(day)
            except DatabaseError:
                return None
            _shared_salts.save(shared_key, salt, stamp)
        _salts.put(key, salt, seconds=SALT_SECONDS)
    return salt


def warm_up() -> None:
    """Load the user-agent parsers and geo data now (~0.5 s) rather than on a scanner's first request."""
    describe_client("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148 Safari/604.1")
    country_for_ip("192.0.2.1")
    country_for_ip("8.8.8.8")


def shutdown() -> None:
    """Let go of this process's spool file, so the worker can finish it and delete it now rather than later."""
    if _spool is not None:
        _spool.close()


# The worker's side ------------------------------------------------------------------------------------------

_COLUMNS = (
    "uid", "stop_id", "trail_id", "scanned_at", "device", "browser", "os",
    "user_agent", "referrer", "country", "ip", "visitor", "is_bot", "language",
)  # fmt: skip
_COLUMN_LIST = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))


def write_scans(batch: list[PendingScan]) -> int:
    """Store `batch`, one transaction per workspace schema; scans already stored (same uid) are skipped.

    Returns how many were new. Scans of a workspace that no longer exists are dropped, with a warning.
    Raises DatabaseError when the database is away: nothing of the failed workspace is stored.
    """
    by_schema: dict[str, list[PendingScan]] = {}
    for scan in batch:
        by_schema.setdefault(scan.schema, []).append(scan)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [list(by_schema)])
        existing = {row[0] for row in cursor.fetchall()}
    stored = 0
    for schema, scans in by_schema.items():
        if schema not in existing:
            logger.warning("dropped %d scans of workspace %s, which no longer exists", len(scans), schema)
            continue
        stored += _write_schema(schema, scans)
    return stored


def _write_schema(schema: str, scans: list[PendingScan]) -> int:
    table = sql.Identifier(schema, Scan._meta.db_table)  # named with its schema: the connection may be on any
    rows = [_scan_row(scan) for scan in sorted(scans, key=lambda scan: scan.scanned_at)]
    with transaction.atomic(), connection.cursor() as cursor:
        # One writer per workspace at a time, from before its ids are drawn until its commit.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"scans:{schema}"])
        try:
            with transaction.atomic():  # a savepoint: should a scan be stored already, only this is undone
                _copy(cursor, table, rows)
            _announce(schema, rows)
            return len(rows)
        except UniqueViolation:
            pass
        # A batch replayed after a worker died between its commit and its acknowledgement: copy it aside,
        # then store only the scans that aren't there yet.
        _copy(cursor, sql.Identifier("scan_batch"), rows, create_like=table)
        cursor.execute(
            sql.SQL(
                "INSERT INTO {table} ({columns}) SELECT {columns} FROM scan_batch ON CONFLICT (uid) DO NOTHING "
                "RETURNING uid"
            )
            .format(columns=_COLUMN_LIST, table=table)
            .as_string(cursor.connection)
        )
        new = {str(row[0]) for row in cursor.fetchall()}
        cursor.execute("DROP TABLE scan_batch")  # now, not at commit: this may be a savepoint of a longer transaction
        _announce(schema, [row for row in rows if row[0] in new])
        return len(new)


_ANNOUNCED = ("uid", "stop_id", "trail_id", "scanned_at", "device", "browser", "os", "country", "is_bot")
_ANNOUNCED_AT = [_COLUMNS.index(name) for name in _ANNOUNCED]


def _announce(schema: str, rows: list[tuple]) -> None:
    """One scan.created webhook event for the scans this transaction stores, in the order they were made.

    Written in the same transaction as the scans: the event exists exactly when they do, and a batch
    replayed after a crash announces only the scans it really added. No IP, visitor or user agent leaves.
    """
    if rows:
        scans = [dict(zip(_ANNOUNCED, (row[i] for i in _ANNOUNCED_AT), strict=True)) for row in rows]
        emit("scan.created", {"count": len(scans), "scans": scans}, schema=schema)


def _copy(cursor, table: sql.Identifier, rows: list[tuple], *, create_like: sql.Identifier | None = None) -> None:
    """COPY `rows` into `table` (first made as an empty temporary copy of `create_like`'s columns, if given)."""
    if create_like is not None:
        cursor.execute(
            sql.SQL("CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS SELECT {columns} FROM {like} WITH NO DATA")
            .format(table=table, columns=_COLUMN_LIST, like=create_like)
            .as_string(cursor.connection)
        )
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(table=table, columns=_COLUMN_LIST)
    with cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _scan_row(scan: PendingScan) -> tuple:
    """The row for Scan's table, in _COLUMNS order."""
    client = describe_client(scan.user_agent, method=scan.method)
    return (
        scan.uid,
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
        scan.language,
    )
