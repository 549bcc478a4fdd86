"""A custom domain from the settings page to its own certificate, for real: Caddy (deploy/Caddyfile, its own CA) in
front of production-mode gunicorn (deploy/start-web.sh), whose DNS checks ask a DNS server on loopback.

Nothing resolves the test's names: each request connects to Caddy's port and names the host in SNI and Host, as a
browser would once the domain's CNAME led it there. The workspace ("echo") is the module's own, dropped afterwards.
"""

from __future__ import annotations

import http.client
import logging
import re
import secrets
import socket
import ssl
import time
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django_tenants.utils import schema_context

from accounts.models import Customer, Domain, User
from tests.deploy.test_caddy import PASSWORD, Deployment, log_in
from tests.fixtures.caddy import CLIENT_IP, Response, production_behind_caddy
from tests.fixtures.stack import database_url_for_tests, end_stack_sessions

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
CUSTOM = "trails.echo.test"
PENDING = "pending.echo.test"
log = logging.getLogger(__name__)


class Live(Deployment):
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
    dns_server.clear()
    with django_db_blocker.unblock():
        workspace, owner, trail_id, token = _make_data()
        database_url = database_url_for_tests()
    # The domain checks ask the test's DNS server, and nothing else.
    env = {"DNS_RESOLVERS": dns_server.address}
    try:
        with production_behind_caddy(
            tmp_path_factory.mktemp("custom-domains"), database_url=database_url, env=env
        ) as proxied:
            yield Live(**vars(proxied), workspace=workspace, owner=owner, trail_id=trail_id, token=token, api_key="")
    finally:
        dns_server.clear()
        with django_db_blocker.unblock():
            end_stack_sessions()
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
