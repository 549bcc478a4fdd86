"""The client behind the proxy (qrcards.middleware.ProxyMiddleware): what the scan recorder and the rate limits see."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from allauth.account.adapter import get_adapter
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context

from accounts.adapter import client_pseudonym
from qrcards.middleware import ProxyMiddleware
from scans.models import Scan
from tests.fixtures.trails import make_trail

PROXY = "10.0.0.2"
CLIENT = "81.2.69.160"


@pytest.fixture
def behind_proxies(settings):
    """Two proxies of ours in 10.0.0.0/8, which set X-Forwarded-Proto."""
    settings.TRUSTED_PROXIES_NETWORKS = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")]
    settings.TRUSTED_PROXY_COUNT = 0
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def seen(peer: str, forwarded_for: str | None = None, proto: str | None = None) -> tuple[str, bool]:
    """The client address and https-ness that the views behind ProxyMiddleware see."""
    headers = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    if proto is not None:
        headers["HTTP_X_FORWARDED_PROTO"] = proto
    request = RequestFactory().get("/", **headers)
    ProxyMiddleware(lambda request: HttpResponse())(request)
    return request.META["REMOTE_ADDR"], request.is_secure()


def test_a_request_through_a_trusted_proxy_is_the_clients(behind_proxies):
    assert seen(PROXY, CLIENT, "https") == (CLIENT, True)


def test_a_client_cannot_choose_its_address_by_sending_its_own_forwarded_for(behind_proxies):
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the address it saw.
    assert seen(PROXY, f"1.2.3.4, {CLIENT}") == (CLIENT, False)
    # Even claiming to be one of our proxies doesn't help: our proxy's own hop is the client.
    assert seen(PROXY, f"1.2.3.4, 10.0.0.9, {CLIENT}")[0] == CLIENT


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_address_that_is_not_one(behind_proxies):
    assert seen(PROXY, f"1.2.3.4, {CLIENT}, 10.0.0.7, 10.0.0.8")[0] == CLIENT
    assert seen("2001:db8::2", f"{CLIENT}, [2001:db8::3]:4711")[0] == CLIENT


def test_a_peer_that_is_not_a_trusted_proxy_keeps_its_own_address_and_cannot_claim_https(behind_proxies):
    assert seen("198.51.100.7", "1.2.3.4", "https") == ("198.51.100.7", False)


def test_a_forwarded_for_that_is_not_an_address_is_not_believed(behind_proxies):
    assert seen(PROXY, "<script>, unknown") == (PROXY, False)
    assert seen(PROXY, f"{CLIENT}, garbage")[0] == PROXY


def test_nothing_is_trusted_when_no_proxy_is_configured(settings):
    settings.SECURE_PROXY_SSL_HEADER = None

    assert seen(PROXY, CLIENT, "https") == (PROXY, False)


def test_with_a_proxy_count_the_address_that_many_hops_from_the_right_is_the_client(settings):
    # A platform's two load balancers whose addresses we don't know; nothing else reaches the app.
    settings.TRUSTED_PROXIES_NETWORKS = []
    settings.TRUSTED_PROXY_COUNT = 2

    assert seen("172.16.0.1", f"1.2.3.4, {CLIENT}, 172.16.9.9")[0] == CLIENT
    assert seen("172.16.0.1", f"{CLIENT}")[0] == CLIENT
    assert seen("172.16.0.1")[0] == "172.16.0.1"


def test_allauth_sees_the_client_not_the_proxy(behind_proxies):
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CLIENT}")
    ProxyMiddleware(lambda request: HttpResponse())(request)

    # allauth keys its counters with a pseudonym of the client's network (never the address itself).
    assert get_adapter(request).get_client_ip(request) == client_pseudonym(CLIENT)


def test_a_scan_through_the_proxy_records_the_clients_network_and_country(behind_proxies, workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context(workspace_a.schema_name):
        stop = trail.live_stops().first()

    Client(HTTP_HOST=workspace_a.primary_host).get(
        f"/qr/{stop.token}", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CLIENT}"
    )

    with schema_context(workspace_a.schema_name):
        assert list(Scan.objects.values_list("ip", "country")) == [("81.2.69.0", "GB")]


def test_log_in_limits_count_each_client_behind_the_proxy_on_its_own(behind_proxies, cast, db):
    """Staff admin log-ins: 10 failures a minute per client network (allauth's limits, keyed by REMOTE_ADDR)."""
    cache.clear()
    client = Client(HTTP_HOST="qrcards.localhost")

    def log_in(number: int, forwarded_for: str) -> int:
        credentials = {"username": f"nobody{number}@example.com", "password": "wrong"}
        return client.post(
            "/admin/login/", credentials, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for
        ).status_code

    try:
        assert [log_in(n, CLIENT) for n in range(10)] == [200] * 10
        assert log_in(10, CLIENT) == 429
        # Another visitor behind the same proxy (on another network) is not held up by the first one's failures...
        assert log_in(11, "198.51.100.7") == 200
        # ...and the first can't get out of its limit by naming another address.
        assert log_in(12, f"198.51.100.8, {CLIENT}") == 429
    finally:
        cache.clear()
