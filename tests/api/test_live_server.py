"""The API served by gunicorn, as `make run` serves it, on the test database: the README's examples run as
written (curl and httpx), and two requests sent at once with one Idempotency-Key create one trail."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts.models import ApiKey, Customer, User
from tests.fixtures.stack import database_url_for_tests, end_stack_sessions, free_port
from trails.api import SAMPLE_TRAIL

BASE_DIR = Path(__file__).resolve().parents[2]
SLUG = "readme"
README_API = re.search(r"^## REST API\n(.*?)^## ", (BASE_DIR / "README.md").read_text(), re.S | re.M).group(1)

# django_db: so the test database exists. The server's data is committed, outside any test's transaction.
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_rate_limits():
    """Not here (tests/api/conftest.py's would): emptying the database cache in this test's transaction
    would lock the server's counters until the test ends, and hold up its every request."""


@dataclass
class Server:
    host: str  # the workspace's host, with the port
    port: int
    key: str
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://{self.host}/api/v1"

    def post(self, path: str, body: str, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {"Host": self.host, "Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
            conn.request("POST", f"/api/v1{path}", body=body.encode(), headers={**sent, **headers})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    from accounts.workspaces import create_workspace, ensure_public_workspace

    port = free_port()
    log = tmp_path_factory.mktemp("live-api") / "web.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_SETTINGS_MODULE": "qrcards.settings",
        "WEB_CONCURRENCY": "3",
        "BIND": f"127.0.0.1:{port}",
        "SCAN_SPOOL_DIR": str(log.parent / "spool"),
        "LAST_GOOD_DIR": str(log.parent / "last-good"),
        "SECRET_KEY": "live-api-test-secret-key-of-reasonable-length-0123456789",
    }
    env.pop("REDIS_URL", None)
    with django_db_blocker.unblock():
        ensure_public_workspace()
        owner, _ = User.objects.get_or_create(email="owner@readme.example")
        workspace = Customer.objects.filter(schema_name=SLUG).first() or create_workspace(
            name="Readme", slug=SLUG, owner=owner
        )
        _, key = ApiKey.objects.create_key(customer=workspace, name="README", scope=ApiKey.Scope.READ_WRITE)
        host = f"{workspace.primary_host}:{port}"
    command = [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "qrcards" / "gunicorn.conf.py")]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        command, cwd=BASE_DIR, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    running = Server(host=host, port=port, key=key, process=process)
    try:
        _wait_until_up(running, log)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=20)
        with django_db_blocker.unblock():
            end_stack_sessions()
            workspace.delete(force_drop=True)
            owner.delete()


def _wait_until_up(server: Server, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", "/ping", headers={"Host": server.host})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start: " + log.read_text()[-2000:])


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README_API, re.S | re.M)


def _trail_titles() -> list[str]:
    """The server's trails, as it committed them. (Only read here: a write of this test's own, in a
    transaction open until the test ends, would hold up the server's.)"""
    from django_tenants.utils import schema_context

    from trails.models import Trail

    with schema_context(SLUG):
        return sorted(Trail.objects.values_list("title", flat=True))


def _new(titles: list[str], before: list[str]) -> list[str]:
    new = list(titles)
    for title in before:
        new.remove(title)
    return new


def test_the_readme_has_curl_and_httpx_examples_for_every_resource():
    shell, python = "\n".join(_blocks("sh")), "\n".join(_blocks("python"))
    for resource in ("/trails", "/stops/", "qr_svg|qr.svg", "qr.zip", "cards.pdf", "/scans", "/stats"):
        for examples in (shell, python):
            assert any(name in examples for name in resource.split("|")), resource
    assert "httpx.Client" in python and "Idempotency-Key" in python and "If-None-Match" in python


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_the_readmes_curl_examples_work_as_written(server, tmp_path):
    before = _trail_titles()
    (tmp_path / "old-town-walk.md").write_text(SAMPLE_TRAIL)
    # The README's own exports name the demo workspace; this server's take their place.
    script = "\n".join(line for line in "\n".join(_blocks("sh")).splitlines() if not line.startswith("export QRC"))
    env = {**os.environ, "QRC": server.base, "QRC_KEY": server.key}

    done = subprocess.run(  # noqa: S603
        ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607 - bash from the PATH
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert _new(_trail_titles(), before) == ["Old Town Walk (summer)"]
    files = sorted(path.name for path in tmp_path.iterdir())
    assert "old-town-walk-cards.pdf" in files and "old-town-walk-qr.zip" in files
    assert len([name for name in files if name.startswith("stop-") and name.endswith(".svg")]) == 3
    assert (tmp_path / "old-town-walk-cards.pdf").read_bytes().startswith(b"%PDF")


def test_the_readmes_httpx_examples_work_as_written(server, tmp_path, monkeypatch):
    before = _trail_titles()
    (tmp_path / "old-town-walk.md").write_text(SAMPLE_TRAIL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QRC", f"http://127.0.0.1:{server.port}/api/v1")
    monkeypatch.setenv("QRC_HOST", server.host)
    monkeypatch.setenv("QRC_KEY", server.key)
    namespace: dict = {}

    for number, block in enumerate(_blocks("python"), start=1):
        exec(compile(block, f"README.md python block {number}", "exec"), namespace)  # noqa: S102 - our README

    assert namespace["trail"]["status"] == "archived"
    assert _new(_trail_titles(), before) == ["Old Town Walk"]
    files = sorted(path.name for path in tmp_path.iterdir())
    assert "old-town-walk-cards.pdf" in files and "old-town-walk-qr.zip" in files
    assert any(name.startswith("stop-1-") and name.endswith(".svg") for name in files)


def _at_once(count: int, send) -> list:
    start = threading.Barrier(count)
    answers: list = []

    def run() -> None:
        start.wait()
        answers.append(send())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_requests_sent_at_once_with_one_idempotency_key_create_one_trail(server):
    stops = "".join(f"## Stop {n} {{#s{n}}}\nAbout stop {n}.\n\n" for n in range(60))  # a longer write
    body = json.dumps({"source": f'+++\ntitle = "Raced Walk"\n+++\n{stops}'})
    # Every web worker has answered once (each loads the assembler on its first), so they race as equals.
    warm = json.dumps({"source": SAMPLE_TRAIL})
    _at_once(12, lambda: server.post("/trails/preview", warm, {}))

    answers = _at_once(6, lambda: server.post("/trails", body, {"Idempotency-Key": "race-1"}))

    assert _trail_titles().count("Raced Walk") == 1
    assert {status for status, _ in answers} == {201}
    assert len({content for _, content in answers}) == 1  # each got the first answer
