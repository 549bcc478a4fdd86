"""QRCards in production, for real: gunicorn with QRCARDS_ENV=production behind Caddy (tests/fixtures/caddy.py).

gunicorn runs against the test database, so the data these tests use is committed: a workspace of their own
("delta"), dropped afterwards.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from html import unescape
from urllib.parse import quote

import pytest
from django_tenants.utils import schema_context

from accounts.models import Customer, User
from tests.fixtures.caddy import (
    DOMAIN,
    Proxied,
    Response,
    production_behind_caddy,
)
from tests.fixtures.stack import database_url_for_tests, end_stack_sessions

pytestmark = pytest.mark.django_db

PASSWORD = "a long production password"


@dataclass
class Deployment(Proxied):
    workspace: Customer
    owner: User
    trail_id: int
    token: str
    api_key: str

    @property
    def workspace_host(self) -> str:
        return self.workspace.primary_host


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
    with django_db_blocker.unblock():
        workspace, owner, trail_id, token, api_key = _make_data()
        database_url = database_url_for_tests()
    try:
        with production_behind_caddy(tmp_path_factory.mktemp("production"), database_url=database_url) as proxied:
            yield Deployment(**vars(proxied), workspace=workspace, owner=owner, trail_id=trail_id, token=token,
                             api_key=api_key)  # fmt: skip
    finally:
        with django_db_blocker.unblock():
            end_stack_sessions()
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
    # The page shows each URL as its code encodes it: in upper case (QR alphanumeric mode).
    card_urls = re.findall(r">(\w+://[^<]+/QR/\w+)<", unescape(cards.text))
    assert card_urls and all(url.startswith(expected.upper()) for url in card_urls), card_urls
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
