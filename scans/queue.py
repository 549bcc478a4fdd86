"""The durable hand-off between a scanner request and the scan worker.

A web process never holds a scan that exists nowhere else: before the page is answered, the
scan is either on a Redis stream (when REDIS_URL is set) or appended to this process's spool
file on local disk. The worker (`manage.py run_worker`) reads both, writes the scans, and
only then acknowledges them: a Redis entry is acknowledged and deleted after the database
commit; a spool file is deleted once it is read to the end, its writer is gone and every
line is committed. A worker that dies between the commit and the acknowledgement replays
the scans, and the database drops the replays by their `uid` (see scans/recording.py).

Spool files, one per web process at a time (`<spool>/<host>-<pid>-<n>.scans`):
- the writer holds an exclusive `flock` on its file for as long as it may append to it, and
  moves on to a new file every few seconds; the kernel drops the lock when the process
  exits, SIGKILL included, so an unlocked file will never grow again;
- a file is created under a temporary name and renamed only once it is locked, so the
  drainer never mistakes a file that is being born for one whose writer has gone;
- a line is written with one `write()` to a file opened with O_APPEND: a process killed
  mid-way leaves at most a torn last line, which the drainer skips.
`write()` puts a line in the kernel's page cache, which survives the death of any process;
the drainer fsyncs a file before it reads it, so a power cut can lose at most the scans of
its last poll (as Redis with `appendfsync everysec` can lose its last second).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

SPOOL_SUFFIX = ".scans"
DONE_SUFFIX = ".done"  # beside a spool file: how many of its bytes are committed
NEWBORN_SUFFIX = ".new"
ROTATE_SECONDS = 5.0
ROTATE_BYTES = 4 * 1024 * 1024
READ_BYTES = 1024 * 1024
GROUP = "writers"
REDIS_TIMEOUT = 0.5  # seconds; past it the scan goes to the spool instead


class SpoolWriter:
    """This process's current spool file; a new one after a fork, a few seconds or a few megabytes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd: int | None = None
        self._pid = 0
        self._opened = 0.0
        self._size = 0
        self._serial = 0

    def append(self, line: bytes) -> None:
        if self._fd is None or self._pid != os.getpid() or self._stale():
            self._rotate()
        os.write(self._fd, line)
        self._size += len(line)

    def _stale(self) -> bool:
        return self._size >= ROTATE_BYTES or time.monotonic() - self._opened >= ROTATE_SECONDS

    def _rotate(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)  # releases the lock: the drainer may now finish the file and delete it
        self._fd = None
        self._pid = os.getpid()
        self._serial += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{socket.gethostname()}-{self._pid}-{time.time_ns()}-{self._serial}"
        newborn = self.directory / (name + NEWBORN_SUFFIX)
        fd = os.open(newborn, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(newborn, self.directory / (name + SPOOL_SUFFIX))
        self._fd, self._opened, self._size = fd, time.monotonic(), 0

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


@dataclass
class SpoolFile:
    """A spool file as the drainer sees it: committed up to `done`, read up to `read`."""

    path: Path
    done: int = 0
    read: int = 0
    synced: int = 0
    fd: int | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Entry:
    """One scan as the queue hands it to the worker, with what acknowledging it takes."""

    data: bytes
    stream_id: str | None = None  # Redis
    spool: SpoolFile | None = None  # the spool file and the offset just past this line
    end: int = 0


class SpoolReader:
    """Reads every spool file of a directory from where its last commit left off.

    Only one drainer per directory at a time (an flock on `.drainer`); another worker on the
    same machine leaves the spool alone and takes its scans from Redis only.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[Path, SpoolFile] = {}
        self._lock_fd: int | None = None

    def acquire(self) -> bool:
        if self._lock_fd is not None:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / ".drainer", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def release(self) -> None:
        for spool in self.files.values():
            if spool.fd is not None:
                os.close(spool.fd)
        self.files.clear()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def read(self, limit: int) -> list[Entry]:
        """Up to `limit` whole lines not yet read, oldest files first."""
        if not self.acquire():
            return []
        self.retire_finished()
        entries: list[Entry] = []
        for path in sorted(self.directory.glob("*" + SPOOL_SUFFIX), key=_age):
            spool = self.files.get(path) or self._open(path)
            if spool is None:
                continue
            entries += self._read_lines(spool, limit - len(entries))
            if len(entries) >= limit:
                break
        return entries

    def _open(self, path: Path) -> SpoolFile | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        done_path = path.with_suffix(DONE_SUFFIX)
        try:
            done = int(done_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            done = 0
        spool = SpoolFile(path=path, done=done, read=done, fd=fd)
        self.files[path] = spool
        return spool

    def _read_lines(self, spool: SpoolFile, limit: int) -> list[Entry]:
        assert spool.fd is not None
        size = os.fstat(spool.fd).st_size
        if size <= spool.read:
            return []
        # Asked before reading: once the writer has let go, what we read is all there will ever be.
        writer_gone = _unlocked(spool.fd)
        if size > spool.synced:
            os.fsync(spool.fd)  # from the page cache to the disk before the scans count as safe
            spool.synced = size
        chunk = os.pread(spool.fd, READ_BYTES, spool.read)
        entries: list[Entry] = []
        start = 0
        while len(entries) < limit:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            if end > start:
                entries.append(Entry(data=chunk[start:end], spool=spool, end=spool.read + end + 1))
            start = end + 1
        if writer_gone and len(entries) < limit and start < len(chunk) < READ_BYTES:
            # A last line without its newline, from a writer that is gone (a full disk): the worker judges it.
            entries.append(Entry(data=chunk[start:], spool=spool, end=spool.read + len(chunk)))
            start = len(chunk)
        spool.read += start
        return entries

    def commit(self, entries: list[Entry]) -> None:
        """Record that `entries` (in the order read) are in the database; retire finished files."""
        ends: dict[Path, int] = {}
        for entry in entries:
            if entry.spool is not None:
                ends[entry.spool.path] = max(ends.get(entry.spool.path, 0), entry.end)
        for path, end in ends.items():
            spool = self.files[path]
            spool.done = max(spool.done, end)
            _write_atomically(path.with_suffix(DONE_SUFFIX), str(spool.done))
        self.retire_finished()

    def retire_finished(self) -> None:
        """Delete files read and committed to the end whose writer has let go of them; and stillborn ones."""
        for path, spool in list(self.files.items()):
            assert spool.fd is not None
            if spool.done < os.fstat(spool.fd).st_size or not _unlocked(spool.fd):
                continue
            # Unlocked means no writer will append again; check the size once more after the lock.
            if spool.done < os.fstat(spool.fd).st_size:
                continue
            path.unlink(missing_ok=True)
            path.with_suffix(DONE_SUFFIX).unlink(missing_ok=True)
            os.close(spool.fd)
            del self.files[path]
        for newborn in self.directory.glob("*" + NEWBORN_SUFFIX):
            # A writer died between creating its file and naming it: nothing was written to it.
            if time.time() - _age(newborn) > 60:
                newborn.unlink(missing_ok=True)


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _unlocked(fd: int) -> bool:
    """Whether no writer holds the file: we can lock it ourselves (and let go at once)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


# Redis ------------------------------------------------------------------------------------------------------


def redis_client():
    import redis

    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT, health_check_interval=30
    )


class StreamReader:
    """Reads the scans stream as one consumer of the writers' group, and takes over the dead's entries.

    An entry delivered `settings.SCAN_CLAIM_IDLE_SECONDS` ago and still unacknowledged belongs to a
    worker that died (or lost its database for that long): any worker takes it over.
    """

    def __init__(self, client, consumer: str) -> None:
        self.client = client
        self.consumer = consumer
        self.stream = settings.SCAN_STREAM
        self.claim_idle_ms = int(settings.SCAN_CLAIM_IDLE_SECONDS * 1000)
        self._group_ready = False
        self._last_claim = 0.0

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        import redis

        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._group_ready = True

    def read(self, limit: int, *, block_ms: int) -> list[Entry]:
        self._ensure_group()
        entries = self._claim_abandoned(limit)
        if entries:
            return entries
        answer = self.client.xreadgroup(GROUP, self.consumer, {self.stream: ">"}, count=limit, block=block_ms or None)
        return [_stream_entry(entry_id, fields) for _, messages in answer or [] for entry_id, fields in messages]

    def _claim_abandoned(self, limit: int) -> list[Entry]:
        now = time.monotonic()
        if now - self._last_claim < min(10.0, self.claim_idle_ms / 1000):
            return []
        self._last_claim = now
        _, messages, *_ = self.client.xautoclaim(
            self.stream, GROUP, self.consumer, min_idle_time=self.claim_idle_ms, start_id="0-0", count=limit
        )
        return [_stream_entry(entry_id, fields) for entry_id, fields in messages if fields]

    def commit(self, entries: list[Entry]) -> None:
        ids = [entry.stream_id for entry in entries if entry.stream_id]
        if ids:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.xack(self.stream, GROUP, *ids)
                pipe.xdel(self.stream, *ids)
                pipe.execute()

    def forget_idle_consumers(self, *, idle_ms: int = 3_600_000) -> list[str]:
        """Consumers (worker processes, one name each) gone this long with nothing pending leave the group.

        Every worker that ever started is one; without this the group's list only grows. Returns their names.
        """
        self._ensure_group()
        gone = [
            consumer["name"]
            for consumer in self.client.xinfo_consumers(self.stream, GROUP)
            if consumer["pending"] == 0 and consumer["idle"] >= idle_ms
        ]
        for name in gone:
            self.client.xgroup_delconsumer(self.stream, GROUP, name)
        return [name.decode() if isinstance(name, bytes) else name for name in gone]


def _stream_entry(entry_id, fields) -> Entry:
    entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return Entry(data=fields.get(b"d") or fields.get("d") or b"", stream_id=entry_id)
