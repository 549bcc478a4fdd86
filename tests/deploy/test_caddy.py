"""QRCards in production, for real: gunicorn with QRCARDS_ENV=production behind Caddy (deploy/Caddyfile).

Caddy issues certificates from its own CA (local_certs) on free high ports; gunicorn runs against the test
database, so the data these tests use is committed: a workspace of their own ("delta"), dropped afterwards.
Requests come from 127.1.2.3 (all of 127/8 is loopback on Linux) while Caddy reaches gunicorn from
127.0.0.1, so the address the app records tells the client from the proxy.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from django_tenants.utils import schema_context

from accounts.models import Customer, User

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
CADDY = shutil.which("caddy") or "/usr/bin/caddy"
CLIENT_IP = "127.1.2.3"
PASSWORD = "a long production password"
DOMAIN = "qrcards.localhost"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Response:
    def __init__(self, raw: http.client.HTTPResponse):
        self.status = raw.status
        self.headers = raw.headers
        self.raw_body = raw.read()
        encoding = raw.headers.get("Content-Encoding", "")
        self.body = gzip.decompress(self.raw_body) if encoding == "gzip" else self.raw_body

    @property
    def text(self) -> str:
        return self.body.decode()

    def cookies(self) -> dict[str, str]:
        return {line.split("=", 1)[0]: line for line in self.headers.get_all("Set-Cookie") or []}


@dataclass
class Deployment:
    https_port: int
    http_port: int
    gunicorn_port: int
    ca: ssl.SSLContext
    workspace: Customer
    owner: User
    trail_id: int
    token: str
    api_key: str

    @property
    def workspace_host(self) -> str:
        return self.workspace.primary_host

    def request(self, host: str, path: str, *, method: str = "GET", headers=None, body=None, tls=True) -> Response:
        """One request through Caddy, from CLIENT_IP, to `host` (sent as SNI and Host, with the port)."""
        port = self.https_port if tls else self.http_port
        sock = socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(CLIENT_IP, 0))
        if tls:
            sock = self.ca.wrap_socket(sock, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=15)
        connection.sock = sock
        try:
            connection.request(method, path, body=body, headers={"Host": f"{host}:{port}", **(headers or {})})
            return Response(connection.getresponse())
        finally:
            connection.close()


def _wait_for(check, what: str, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start in {seconds} s:\n{log.read_text()[-3000:]}")


def _test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    host = db["HOST"] or "localhost"
    auth = quote(db["USER"] or "postgres", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{quote(host, safe='')}{port}/{db['NAME']}"


def _make_data():
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from accounts.models import ApiKey
    from accounts.workspaces import create_workspace, ensure_public_workspace
    from tests.fixtures.trails import make_trail

    ensure_public_workspace()
    owner = User.objects.create_user("owner@delta.example")
    # Hashed as production does (the tests' own hasher is a fast one production doesn't know).
    owner.password = PBKDF2PasswordHasher().encode(PASSWORD, secrets.token_hex(8))
    owner.save()
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    workspace = create_workspace(name="Delta Museum", slug="delta", owner=owner)
    trail = make_trail(workspace=workspace)
    with schema_context(workspace.schema_name):
        token = trail.live_stops().first().token
    _, api_key = ApiKey.objects.create_key(customer=workspace, name="caddy test", scope="read")
    return workspace, owner, trail.pk, token, api_key


@pytest.fixture(scope="module")
def deployment(django_db_setup, django_db_blocker, tmp_path_factory):
    if not os.path.exists(CADDY):
        pytest.skip("Debian's caddy is not installed (apt-get install caddy)")
    from django.conf import settings

    tmp = tmp_path_factory.mktemp("production")
    gunicorn_port, https_port, http_port = free_port(), free_port(), free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    with django_db_blocker.unblock():
        workspace, owner, trail_id, token, api_key = _make_data()
        database_url = _test_database_url()
    web_log, caddy_log = tmp / "gunicorn.log", tmp / "caddy.log"
    web = caddy = None
    web_env = base_env | {
        "QRCARDS_ENV": "production",
        "DATABASE_URL": database_url,
        # The test process's key, so what it signed (nothing yet) and what gunicorn signs agree.
        "SECRET_KEY": settings.SECRET_KEY,
        "QRCARDS_DOMAIN": DOMAIN,
        "EMAIL_URL": "console:",
        "BIND": f"127.0.0.1:{gunicorn_port}",
        "WEB_CONCURRENCY": "1",
        "TRUSTED_PROXIES": "127.0.0.1",
        "TRUSTED_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "REDIS_URL": "",
        "SCAN_SPOOL_DIR": str(tmp / "spool"),
        # deploy/start-web.sh runs `python` and `gunicorn` as the image has them: this interpreter's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "LAST_GOOD_DIR": str(tmp / "last-good"),
    }
    try:
        # As the Dockerfile does at build time: production serves the collected, hashed static files.
        subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, env=web_env, check=True
        )
        # As the image runs it: gunicorn and, beside it, the worker that writes the scans (deploy/start-web.sh).
        web = subprocess.Popen(  # noqa: S603 - our own start script
            [str(BASE_DIR / "deploy" / "start-web.sh")],
            cwd=BASE_DIR,
            env=web_env,
            stdout=web_log.open("wb"),
            stderr=subprocess.STDOUT,
        )

        def web_answers() -> bool:
            connection = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=2)
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200

        _wait_for(web_answers, "gunicorn", web, web_log)

        data_home = tmp / "data"
        caddy = subprocess.Popen(  # noqa: S603 - Debian's caddy, our Caddyfile
            [CADDY, "run", "--config", str(BASE_DIR / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
            cwd=tmp,
            env=base_env
            | {
                "HOME": str(tmp),
                "XDG_DATA_HOME": str(data_home),
                "XDG_CONFIG_HOME": str(tmp / "config"),
                "QRCARDS_DOMAIN": DOMAIN,
                "QRCARDS_UPSTREAM": f"127.0.0.1:{gunicorn_port}",
                # Caddy's own CA, and it stays out of the machine's trust store.
                "CADDY_CERTIFICATES": "local_certs\nskip_install_trust",
                "CADDY_HTTP_PORT": str(http_port),
                "CADDY_HTTPS_PORT": str(https_port),
                "CADDY_ADMIN": "off",
            },
            stdout=caddy_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        root = data_home / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        _wait_for(root.exists, "caddy", caddy, caddy_log)
        ca = ssl.create_default_context(cafile=str(root))
        live = Deployment(https_port, http_port, gunicorn_port, ca, workspace, owner, trail_id, token, api_key)
        _wait_for(lambda: live.request(DOMAIN, "/healthz").status == 200, "caddy", caddy, caddy_log)
        yield live
    finally:
        for process in (caddy, web):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        with django_db_blocker.unblock():
            from tests.fixtures.browser import _close_server_sessions

            _close_server_sessions()
            workspace.delete(force_drop=True)
            owner.delete()


def log_in(live: Deployment) -> tuple[Response, dict[str, str], Response]:
    """The owner logs in on the workspace host through Caddy: the answer, the cookies to send, the log-in form."""
    host = live.workspace_host
    form = live.request(host, "/accounts/login/")
    csrf_cookie = form.cookies()["csrftoken"].split(";", 1)[0]
    csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    body = f"csrfmiddlewaretoken={csrf_token}&login={quote(live.owner.email)}&password={quote(PASSWORD)}"
    answer = live.request(
        host,
        "/accounts/login/",
        method="POST",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": csrf_cookie,
            "Origin": f"https://{host}:{live.https_port}",
            "Referer": f"https://{host}:{live.https_port}/accounts/login/",
        },
    )
    session = answer.cookies()["sessionid"].split(";", 1)[0]
    return answer, {"Cookie": f"{csrf_cookie}; {session}"}, form


def test_pages_come_over_https_with_hsts_and_the_content_security_policy(deployment):
    for host, path in [(DOMAIN, "/"), (deployment.workspace_host, "/accounts/login/")]:
        page = deployment.request(host, path)

        assert page.status == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_plain_http_is_redirected_to_https_on_the_same_host(deployment):
    for host in (DOMAIN, deployment.workspace_host):
        answer = deployment.request(host, f"/qr/{deployment.token}", tls=False)

        assert answer.status in (301, 308)
        # Caddy names the HTTPS port only when it isn't 443, and not on every version: production's is 443.
        assert answer.headers["Location"] in (
            f"https://{host}/qr/{deployment.token}",
            f"https://{host}:{deployment.https_port}/qr/{deployment.token}",
        )


def test_responses_are_compressed(deployment):
    gzipped = deployment.request(DOMAIN, "/", headers={"Accept-Encoding": "gzip"})
    zstd = deployment.request(DOMAIN, "/", headers={"Accept-Encoding": "zstd"})

    assert gzipped.headers["Content-Encoding"] == "gzip" and "QRCards" in gzipped.text
    assert len(gzipped.raw_body) < len(gzipped.body)
    assert zstd.headers["Content-Encoding"] == "zstd"


def test_log_in_cookies_are_secure_and_the_dashboard_answers(deployment):
    answer, cookies, form = log_in(deployment)

    assert "; Secure" in form.cookies()["csrftoken"]
    assert answer.status == 302 and answer.headers["Location"] == "/dashboard/"
    session_cookie = answer.cookies()["sessionid"]
    assert "; Secure" in session_cookie and "; HttpOnly" in session_cookie
    dashboard = deployment.request(deployment.workspace_host, "/dashboard/", headers=cookies)
    assert dashboard.status == 200 and "Delta Museum" in dashboard.text


def test_printed_card_urls_are_https_on_the_browsers_port(deployment):
    _, cookies, _ = log_in(deployment)
    expected = f"https://{deployment.workspace_host}:{deployment.https_port}/qr/"

    cards = deployment.request(
        deployment.workspace_host, f"/dashboard/trails/{deployment.trail_id}/cards/", headers=cookies
    )
    stops = deployment.request(
        deployment.workspace_host,
        f"/api/v1/trails/{deployment.trail_id}/stops",
        headers={"Authorization": f"Bearer {deployment.api_key}"},
    )

    assert cards.status == 200
    card_urls = re.findall(r">(\w+://[^<]+/qr/\w+)<", unescape(cards.text))
    assert card_urls and all(url.startswith(expected) for url in card_urls), card_urls
    assert stops.status == 200
    api_urls = [item["url"] for item in json.loads(stops.body)["items"]]
    assert api_urls and all(url.startswith(expected.upper()) for url in api_urls), api_urls
    assert str(deployment.gunicorn_port) not in cards.text + stops.text


def test_a_scan_records_the_clients_network_not_caddys_even_if_the_client_names_another(deployment):
    page = deployment.request(
        deployment.workspace_host, f"/qr/{deployment.token}", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert page.status == 200 and "default-src 'none'" in page.headers["Content-Security-Policy"]

    from scans.models import Scan

    # The page hands the scan to the spool and the worker writes it: wait for it, a few seconds at most.
    deadline = time.monotonic() + 10
    networks: list[str] = []
    while not networks and time.monotonic() < deadline:
        with schema_context(deployment.workspace.schema_name):
            networks = list(Scan.objects.values_list("ip", flat=True))
        time.sleep(0.1)
    # Not 127.0.0.0 (Caddy's side of the connection to gunicorn), not 203.0.113.0 (what the client claimed).
    assert networks == ["127.1.2.0"]
