"""A custom domain from the settings page to its own certificate, for real: Caddy (deploy/Caddyfile, its own CA) in
front of production-mode gunicorn (deploy/start-web.sh), whose DNS checks ask a DNS server on loopback.

Nothing resolves the test's names: each request connects to Caddy's port and names the host in SNI and Host, as a
browser would once the domain's CNAME led it there. The workspace ("echo") is the module's own, dropped afterwards.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django_tenants.utils import schema_context

from accounts.models import Customer, Domain, User
from tests.deploy.test_caddy import (
    CADDY,
    CLIENT_IP,
    DOMAIN,
    PASSWORD,
    Deployment,
    Response,
    _test_database_url,
    _wait_for,
    free_port,
    log_in,
)

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
CUSTOM = "trails.echo.test"
PENDING = "pending.echo.test"
log = logging.getLogger(__name__)


class Live(Deployment):
    web_log: Path
    caddy_log: Path

    def handshake(self, name: str) -> ssl.SSLSocket:
        """A TLS connection to Caddy with SNI `name`, its certificate checked against Caddy's own CA."""
        sock = socket.create_connection(("127.0.0.1", self.https_port), timeout=15, source_address=(CLIENT_IP, 0))
        try:
            return self.ca.wrap_socket(sock, server_hostname=name)
        except BaseException:
            sock.close()
            raise

    def asked(self, name: str, answer: str) -> bool:
        """Whether the app's log says Caddy asked about `name` and what it answered ("allowed" or "refused")."""
        return f"tls-ask {name}: {answer}" in self.web_log.read_text()


def _make_data():
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from accounts.workspaces import create_workspace, ensure_public_workspace
    from tests.fixtures.trails import make_trail

    ensure_public_workspace()
    owner = User.objects.create_user("owner@echo.example")
    owner.password = PBKDF2PasswordHasher().encode(PASSWORD, secrets.token_hex(8))
    owner.save()
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    workspace = create_workspace(name="Echo Gardens", slug="echo", owner=owner)
    trail = make_trail(workspace=workspace)
    with schema_context(workspace.schema_name):
        token = trail.live_stops().first().token
    # Added on the settings page, never verified.
    from accounts.domains import add_domain

    add_domain(customer=workspace, name=PENDING)
    return workspace, owner, trail.pk, token


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker, tmp_path_factory, dns_server):
    if not os.path.exists(CADDY):
        pytest.skip("Debian's caddy is not installed (apt-get install caddy)")
    from django.conf import settings

    dns_server.clear()
    tmp = tmp_path_factory.mktemp("custom-domains")
    gunicorn_port, https_port, http_port = free_port(), free_port(), free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    with django_db_blocker.unblock():
        workspace, owner, trail_id, token = _make_data()
        database_url = _test_database_url()
    web_log, caddy_log = tmp / "gunicorn.log", tmp / "caddy.log"
    web = caddy = None
    web_env = base_env | {
        "QRCARDS_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "QRCARDS_DOMAIN": DOMAIN,
        "EMAIL_URL": "console:",
        "BIND": f"127.0.0.1:{gunicorn_port}",
        "WEB_CONCURRENCY": "1",
        "TRUSTED_PROXIES": "127.0.0.1",
        "TRUSTED_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "REDIS_URL": "",
        "SCAN_SPOOL_DIR": str(tmp / "spool"),
        "LAST_GOOD_DIR": str(tmp / "last-good"),
        # The domain checks ask the test's DNS server, and nothing else.
        "DNS_RESOLVERS": dns_server.address,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    try:
        subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, env=web_env, check=True
        )
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
        deployment = Live(https_port, http_port, gunicorn_port, ca, workspace, owner, trail_id, token, "")
        deployment.web_log, deployment.caddy_log = web_log, caddy_log
        _wait_for(lambda: deployment.request(DOMAIN, "/healthz").status == 200, "caddy", caddy, caddy_log)
        yield deployment
    finally:
        for process in (caddy, web):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        dns_server.clear()
        with django_db_blocker.unblock():
            from tests.fixtures.browser import _close_server_sessions

            _close_server_sessions()
            Customer.objects.get(pk=workspace.pk).delete(force_drop=True)
            owner.delete()


def post_form(live: Live, host: str, path: str, fields: dict, cookies: dict[str, str]) -> Response:
    """A form sent as the browser sends it: with its CSRF token, from a page of the same origin."""
    csrf = re.search(r"csrftoken=([^;]+)", cookies["Cookie"]).group(1)
    origin = f"https://{host}:{live.https_port}"
    body = "&".join(f"{quote(k)}={quote(str(v))}" for k, v in {"csrfmiddlewaretoken": csrf, **fields}.items())
    headers = cookies | {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": origin,
        "Referer": f"{origin}/dashboard/settings/",
    }
    return live.request(host, path, method="POST", body=body, headers=headers)


def test_a_custom_domain_gets_a_certificate_from_caddy_once_its_dns_proves_it_and_serves_the_workspace(
    live, dns_server
):
    host = live.workspace_host  # echo.qrcards.localhost
    _, cookies, _ = log_in(live)

    # Before anything: no certificate for the name, and Caddy did ask.
    with pytest.raises(ssl.SSLError):
        live.handshake(CUSTOM)
    assert live.asked(CUSTOM, "refused")

    # The owner adds the domain as they might type it; the page shows the two records to create.
    added = post_form(live, host, "/dashboard/settings/domains/", {"domain": "Trails.Echo.TEST"}, cookies)
    assert added.status == 302
    page = unescape(live.request(host, "/dashboard/settings/", headers=cookies).text)
    assert f"<td>CNAME</td><td><code>{CUSTOM}</code></td><td><code>{host}</code>" in page
    (value,) = re.findall(rf"<code>_qrcards-challenge\.{re.escape(CUSTOM)}</code></td><td><code>([^<]+)</code>", page)
    assert value.startswith("qrcards-verification=")

    # Added but not verified: still no certificate, and no page either.
    with pytest.raises(ssl.SSLError):
        live.handshake(CUSTOM)

    # The records appear in DNS; the owner presses Verify; gunicorn asks the DNS server.
    dns_server.add(CUSTOM, "CNAME", host)
    dns_server.add(f"_qrcards-challenge.{CUSTOM}", "TXT", value)
    pk = Domain.objects.get(domain=CUSTOM).pk
    verified = post_form(live, host, f"/dashboard/settings/domains/{pk}/verify/", {}, cookies)
    assert verified.status == 302
    message = verified.cookies()["messages"].split(";", 1)[0]  # what the page says next comes in a cookie
    settings_page = unescape(
        live.request(host, "/dashboard/settings/", headers={"Cookie": f"{cookies['Cookie']}; {message}"}).text
    )
    assert f"{CUSTOM} is verified: it serves this workspace's pages." in settings_page
    assert re.search(r'class="ok">Verified</span> \d+ \w+ \d{4}: serves your pages', settings_page)
    assert (f"_qrcards-challenge.{CUSTOM}", "TXT", "udp") in dns_server.questions

    # Now Caddy asks, is told yes, and its CA issues a certificate for the name at the handshake.
    started = time.perf_counter()
    with live.handshake(CUSTOM) as tls:
        first = time.perf_counter() - started
        certificate = tls.getpeercert()
    started = time.perf_counter()
    live.handshake(CUSTOM).close()
    again = time.perf_counter() - started
    log.info("first handshake on %s (ask + issuance) %.0f ms; the next %.1f ms", CUSTOM, first * 1e3, again * 1e3)
    assert ("DNS", CUSTOM) in certificate["subjectAltName"]
    issuer = dict(pair[0] for pair in certificate["issuer"])
    assert "Caddy Local Authority" in issuer["commonName"]
    assert live.asked(CUSTOM, "allowed")

    # The workspace's scanner page answers on it, over HTTPS, with its card's token.
    scanned = live.request(CUSTOM, f"/qr/{live.token}")
    assert scanned.status == 200 and "Fountain" in scanned.text

    # Its log-in there is a log-in of its own: the session from the workspace host is none; the hand-over is one.
    assert live.request(CUSTOM, "/dashboard/", headers=cookies).status == 302
    opened = post_form(live, host, f"/dashboard/settings/domains/{pk}/open/", {}, cookies)
    handoff = urlsplit(opened.headers["Location"])
    assert (handoff.scheme, handoff.hostname, handoff.port) == ("https", CUSTOM, live.https_port)
    landed = live.request(CUSTOM, handoff.path)
    session = landed.cookies()["sessionid"].split(";", 1)[0]
    dashboard = live.request(CUSTOM, "/dashboard/", headers={"Cookie": session})
    assert dashboard.status == 200 and "Echo Gardens" in dashboard.text


def test_a_name_that_is_no_host_of_ours_gets_no_certificate_and_the_app_was_asked(live):
    for name in ("nobody.example.test", PENDING):
        with pytest.raises(ssl.SSLError):
            live.handshake(name)
        assert live.asked(name, "refused")


def test_the_ask_is_answered_to_the_proxy_only_never_through_it(live):
    name = live.workspace_host
    path = f"/internal/tls-ask?domain={name}"

    through_caddy = live.request(name, path)
    direct = http.client.HTTPConnection("127.0.0.1", live.gunicorn_port, timeout=5, source_address=(CLIENT_IP, 0))
    direct.request("GET", path)
    from_a_client = direct.getresponse()
    as_caddy = http.client.HTTPConnection("127.0.0.1", live.gunicorn_port, timeout=5)
    as_caddy.request("GET", path)

    # Caddy's own empty 404: the request never reached the app.
    assert through_caddy.status == 404 and through_caddy.body == b""
    assert from_a_client.status == 404
    assert as_caddy.getresponse().status == 200
