"""Faults against real processes: every scan answered is stored, once, whatever is killed or taken away.

A real stack per queue (the spool on disk, and Redis when it is reachable): gunicorn with the
production configuration and a scan worker (`manage.py run_worker`), on a workspace committed
to the test database. Phones scan in parallel threads, each request marked with a referrer of
its own; the test kills a web worker, or the scan worker, or refuses database connections for
a while, then counts: each answered scan must be stored exactly once, and none but those.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import pytest
from django.conf import settings

from accounts.models import ApiKey, Customer, User
from tests.fixtures.redis import redis_or_skip
from tests.fixtures.stack import STACK_APPLICATION, database_url_for_tests, end_stack_sessions, free_port
from tests.fixtures.trails import trail_markdown

BASE_DIR = Path(__file__).resolve().parents[2]
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
SLUG = "durable"
# The issue's own figures take longer than a test should: DURABILITY_CLIENTS=8 DURABILITY_OUTAGE_SECONDS=60
# run the outage as it was measured (pytest -s prints each test's counts).
CLIENTS = int(os.environ.get("DURABILITY_CLIENTS", "4"))
OUTAGE_SECONDS = float(os.environ.get("DURABILITY_OUTAGE_SECONDS", "8"))

# django_db: so the test database exists. Each test's own transaction is idle; the stack's data is committed.
pytestmark = pytest.mark.django_db


@dataclass
class Stack:
    """gunicorn and a scan worker, as `make run` starts them, on the test database."""

    env: dict[str, str]
    port: int
    host: str
    token: str
    log_dir: Path
    api_key: str = ""
    web: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    worker_runs: int = 0

    def start_web(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "qrcards" / "gunicorn.conf.py")]
        self.web = self._spawn(command, self.log_dir / "web.log")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get("/ping")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start: " + (self.log_dir / "web.log").read_text()[-2000:])

    def start_worker(self) -> None:
        self.worker_runs += 1
        log = self.log_dir / f"worker-{self.worker_runs}.log"
        self.worker = self._spawn([sys.executable, str(BASE_DIR / "manage.py"), "run_worker", "--no-jobs"], log)

    def _spawn(self, command: list[str], log: Path) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and commands
            command, cwd=BASE_DIR, env=self.env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )

    def web_workers(self) -> list[psutil.Process]:
        return psutil.Process(self.web.pid).children()

    def get(self, path: str, *, referrer: str = "", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            sent = {"Host": self.host, "User-Agent": PHONE, "Referer": referrer, **(headers or {})}
            conn.request("GET", path, headers=sent)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.web, self.worker):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("*.log")))


@dataclass
class Load:
    """Phones scanning the stop page in parallel until stopped; each request has a referrer of its own."""

    stack: Stack
    answered: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _numbers: itertools.count = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    prefix: str = field(default_factory=lambda: f"https://load.test/{uuid.uuid4().hex[:8]}/")

    def run(self, seconds: float, *, during: callable | None = None) -> None:
        threads = [threading.Thread(target=self._phone) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            if during:
                during()
            time.sleep(max(0.0, seconds))
        finally:
            self._stop.set()
            for thread in threads:
                thread.join()

    def _phone(self) -> None:
        while not self._stop.is_set():
            marker = f"{self.prefix}{next(self._numbers)}"
            try:
                status, _ = self.stack.get(f"/qr/{self.stack.token}", referrer=marker)
            except (OSError, http.client.HTTPException):  # cut off by a killed worker: not answered
                status = 0
            with self._lock:
                self.statuses[status] += 1
                (self.answered if status == 200 else self.failed).add(marker)


def stored_referrers(stack: Stack) -> Counter:
    with psycopg.connect(database_url_for_tests(stack=False), autocommit=True) as conn:
        rows = conn.execute(f'SELECT referrer FROM "{SLUG}".scans_scan').fetchall()  # noqa: S608 - our own slug
    return Counter(row[0] for row in rows)


def wait_until_stored(stack: Stack, load: Load, *, timeout: float = 60) -> Counter:
    deadline = time.monotonic() + timeout
    while True:
        stored = stored_referrers(stack)
        if load.answered <= set(stored) or time.monotonic() > deadline:
            return stored
        time.sleep(0.5)


def assert_each_answered_scan_stored_once(stack: Stack, load: Load, stored: Counter) -> None:
    ours = {marker: count for marker, count in stored.items() if marker.startswith(load.prefix)}
    missing = load.answered - set(ours)
    assert not missing, f"{len(missing)} of {len(load.answered)} answered scans were never stored"
    doubled = {marker: count for marker, count in ours.items() if count > 1}
    assert not doubled, f"stored more than once: {list(doubled)[:5]}"
    # A request cut off by a kill may have been recorded before its answer was lost: stored, not answered.
    assert set(ours) <= load.answered | load.failed
    assert len(load.answered) > 100, f"too little load to show anything: {load.statuses}"
    print(
        f"\n{len(load.answered)} scans answered, {len(ours)} stored ({sum(ours.values())} rows), "
        f"{len(load.failed)} requests cut off, answers {dict(load.statuses)}"
    )


@pytest.fixture(scope="module", params=["spool", "redis"])
def stack(request, django_db_setup, django_db_blocker, tmp_path_factory):
    from django_tenants.utils import schema_context

    from accounts.workspaces import create_workspace, ensure_public_workspace
    from trails.models import Trail

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_SETTINGS_MODULE": "qrcards.settings",
        "SCANS_QUEUE": request.param,
        "WEB_CONCURRENCY": "2",
        "SCAN_CLAIM_IDLE_SECONDS": "3",
        "SECRET_KEY": "durability-test-secret-key-of-reasonable-length-0123456789",
    }
    env.pop("REDIS_URL", None)
    if request.param == "redis":
        env["REDIS_URL"] = redis_or_skip()
        # Several test runs may share a Redis: each its own stream, and its own cache keys (hosts, pages).
        run = uuid.uuid4().hex
        env["SCAN_STREAM"] = f"qrcards:scans:test-{run}"
        env["CACHE_KEY_PREFIX"] = f"test-{run}"
    directory = tmp_path_factory.mktemp(f"stack-{request.param}")
    env["SCAN_SPOOL_DIR"] = str(directory / "spool")
    env["LAST_GOOD_DIR"] = str(directory / "last-good")
    port = free_port()
    env["BIND"] = f"127.0.0.1:{port}"

    with django_db_blocker.unblock():
        ensure_public_workspace()
        owner, _ = User.objects.get_or_create(email="owner@durable.example")
        workspace = Customer.objects.filter(schema_name=SLUG).first() or create_workspace(
            name="Durable", slug=SLUG, owner=owner
        )
        with schema_context(SLUG):
            trail = Trail.create_from_markdown(trail_markdown(), status=Trail.Status.PUBLISHED)
            token = trail.live_stops().first().token
        host = workspace.primary_host
        _, api_key = ApiKey.objects.create_key(customer=workspace, name="Poller", scope=ApiKey.Scope.READ)
    running = Stack(env=env, port=port, host=host, token=token, log_dir=directory, api_key=api_key)
    running.start_web()
    running.start_worker()
    try:
        yield running
    finally:
        running.stop()
        with django_db_blocker.unblock():
            end_stack_sessions()
            workspace.delete(force_drop=True)
            owner.delete()


def _warm(stack: Stack) -> None:
    """Every web worker has rendered the page once, as it would have in a day's traffic."""
    for _ in range(20):
        assert stack.get(f"/qr/{stack.token}", referrer="https://warm.up/")[0] == 200


def _later(seconds: float, action: callable) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()))
    thread.start()
    return thread


def test_no_scan_is_lost_when_a_web_worker_is_killed(stack):
    _warm(stack)
    load = Load(stack)
    killed = []

    def kill_a_web_worker() -> None:
        victim = stack.web_workers()[0]
        killed.append(victim.pid)
        victim.send_signal(signal.SIGKILL)

    load.run(6, during=lambda: _later(2, kill_a_web_worker))

    assert killed
    stored = wait_until_stored(stack, load)
    assert_each_answered_scan_stored_once(stack, load, stored)


def test_no_scan_is_lost_or_stored_twice_when_the_scan_worker_is_killed(stack):
    load = Load(stack)

    def kill_the_worker_then_start_another() -> None:
        stack.worker.send_signal(signal.SIGKILL)
        stack.worker.wait()
        time.sleep(2)
        stack.start_worker()

    load.run(6, during=lambda: _later(1.5, kill_the_worker_then_start_another))

    stored = wait_until_stored(stack, load)
    assert_each_answered_scan_stored_once(stack, load, stored)


def test_while_the_database_is_away_pages_answer_from_their_last_good_copy_and_no_scan_is_lost(stack):
    _warm(stack)
    name = settings.DATABASES["default"]["NAME"]
    load = Load(stack)
    outage = {}

    def take_the_database_away_for(seconds: float) -> None:
        with psycopg.connect(database_url_for_tests("postgres", stack=False), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            try:
                # New sessions are refused; the stack's open ones are cut (the test's own are not the stack's).
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                    [STACK_APPLICATION],
                )
                outage["answered_before"] = len(load.answered)
                time.sleep(seconds)
                outage["answered_during"] = len(load.answered) - outage["answered_before"]
            finally:
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    outage_thread = None

    def start_outage() -> None:
        nonlocal outage_thread
        outage_thread = _later(1, lambda: take_the_database_away_for(OUTAGE_SECONDS))

    load.run(OUTAGE_SECONDS + 4, during=start_outage)
    outage_thread.join()

    assert load.statuses[200] == sum(load.statuses.values()), f"pages failed during the outage: {load.statuses}"
    assert outage["answered_during"] > 100, "the pages were not answered while the database was away"
    stored = wait_until_stored(stack, load)
    assert_each_answered_scan_stored_once(stack, load, stored)
    log = stack.log()
    assert "Traceback" not in log, log[-3000:]
    outages_logged = len(re.findall(r"database unavailable", log))
    assert 1 <= outages_logged <= 2 * 3, f"the outage was logged {outages_logged} times"  # once a process at most


def test_a_client_following_the_scans_cursor_misses_none_however_late_they_are_written(stack):
    """As the README shows: poll /api/v1/scans with the last next_cursor, every 0.2 s, while scans pour in."""
    seen: list[int] = []
    cursor = ""
    stopping = threading.Event()

    def poll_once() -> bool:
        nonlocal cursor
        status, body = stack.get(
            f"/api/v1/scans?limit=1000&include_bots=true&cursor={cursor}",
            headers={"Authorization": f"Bearer {stack.api_key}"},
        )
        assert status == 200, body[:300]
        page = json.loads(body)
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"] or ""
        return page["has_more"]

    def poller() -> None:
        while not stopping.is_set():
            while poll_once():
                pass
            time.sleep(0.2)

    poll_once()  # from the start: every scan stored before now
    before = set(seen)
    thread = threading.Thread(target=poller)
    thread.start()
    load = Load(stack)

    def pause_the_worker_for_two_seconds() -> None:
        # Scans then reach the database late, in several batches, from several web processes' spools.
        _later(2, lambda: stack.worker.send_signal(signal.SIGSTOP))
        _later(4, lambda: stack.worker.send_signal(signal.SIGCONT))

    load.run(6, during=pause_the_worker_for_two_seconds)
    wait_until_stored(stack, load)
    time.sleep(0.5)
    stopping.set()
    thread.join()
    while poll_once():
        pass

    with psycopg.connect(database_url_for_tests(stack=False), autocommit=True) as conn:
        stored = {row[0] for row in conn.execute(f'SELECT id FROM "{SLUG}".scans_scan').fetchall()}  # noqa: S608
    assert len(seen) == len(set(seen)), "a scan was listed twice"
    assert set(seen) == stored, (
        f"{len(stored - set(seen))} of {len(stored - before)} new scans never reached the poller"
    )
