"""Middleware of the whole site: a NUL in the address refused, the client behind the proxy, the Content-Security-Policy,
the health check."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from qrcards.views import healthz

Address = IPv4Address | IPv6Address
NUL_MESSAGE = "The address has a NUL character (%00), which no page takes."


def refuse_nul_in_address(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A 400 for a NUL in the path or query string, in the API's error shape under /api/.

    PostgreSQL stores no NUL in text, so a NUL that reaches a query (a search, a token lookup) is a
    database error, a 500. No honest link has one. Form fields need no such guard: Django's form
    fields refuse NUL with a message beside the field, keeping what was typed, and the trail
    documents that views read directly get a `bad-character` diagnostic from DAP. The API's JSON
    strings are checked by its schemas (`qrcards.api_fields.storable_text`). Headers we store are
    cleaned where they are stored (`scans.recording`).
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or "%00" in query or "\x00" in query:
            if request.path_info.startswith("/api/"):
                from qrcards.api import error_response  # the API's one error shape; imported late, as it loads the API

                return error_response(400, "bad_request", NUL_MESSAGE)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware


def parse_address(text: str) -> Address | None:
    """An address as proxies write it in X-Forwarded-For: `1.2.3.4`, `1.2.3.4:5`, `2001:db8::1`, `[2001:db8::1]:5`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class ProxyMiddleware:
    """Puts the client's address in REMOTE_ADDR, for requests that came through a trusted proxy.

    Everything that wants the client's address (the scan recorder, allauth's rate limits) then reads
    REMOTE_ADDR and nothing else. The client is the right-most address in X-Forwarded-For that is not
    one of our proxies: each proxy appends the address it was connected from, so everything to the left
    of that was written by the client itself and is not believed. With TRUSTED_PROXIES, a peer outside
    them is not a proxy: its X-Forwarded-For and its TRUSTED_PROXY_SSL_HEADER are ignored.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks = settings.TRUSTED_PROXIES_NETWORKS
        self.count = settings.TRUSTED_PROXY_COUNT
        self.ssl_header = settings.SECURE_PROXY_SSL_HEADER[0] if settings.SECURE_PROXY_SSL_HEADER else None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.count or self.networks:
            meta = request.META
            peer = parse_address(meta.get("REMOTE_ADDR", ""))
            if self.count or (peer is not None and self._is_proxy(peer)):
                client = self._client(peer, meta.get("HTTP_X_FORWARDED_FOR", ""))
                if client is not None:
                    meta["REMOTE_ADDR"] = str(client)
            elif self.ssl_header:
                meta.pop(self.ssl_header, None)
        return self.get_response(request)

    def _is_proxy(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def _client(self, peer: Address | None, forwarded_for: str) -> Address | None:
        hops = [hop for hop in forwarded_for.split(",") if hop.strip()]
        if self.count:
            # The peer is the nearest proxy; the last count - 1 hops are the others.
            if not hops:
                return peer
            return parse_address(hops[-self.count] if len(hops) >= self.count else hops[0]) or peer
        client = peer
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:  # garbage: keep the last address a proxy of ours vouched for
                break
            client = address
            if not self._is_proxy(address):
                break
        return client


class ContentSecurityPolicyMiddleware:
    """Sets settings.CONTENT_SECURITY_POLICY on every response that has no policy of its own.

    (The scanner pages set a stricter one.) Scripts and styles come from our static files only. Two
    additions depend on the request: forms may lead to the public host and the workspace hosts (sign-up
    and "open workspace" redirect there), and the workspace's accent colour, which the editor's preview
    (a srcdoc frame, which takes this page's policy) inlines the way the scanner page does, is allowed by
    its hash.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.domain = settings.QRCARDS_DOMAIN

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self._policy(request)
        return response

    def _policy(self, request: HttpRequest) -> str:
        try:
            host = request.get_host()
        except DisallowedHost:  # a malformed Host header, already answered with a 400
            host = ""
        port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else ""
        origin = f"{request.scheme}://{{}}{':' + port if port else ''}"
        directives = {name: list(sources) for name, sources in self.policy.items()}
        # And a view's own: a workspace's custom domains, where its "open" forms lead (accounts.views).
        hosts = [self.domain, "*." + self.domain, *getattr(request, "csp_form_hosts", ())]
        directives["form-action"] += [origin.format(host) for host in hosts]
        # Whole origins elsewhere: the single sign-on providers a log-in button leads to (accounts.sso).
        directives["form-action"] += list(dict.fromkeys(getattr(request, "csp_form_origins", ())))
        accent = getattr(getattr(request, "tenant", None), "accent_css", "")
        if accent:
            digest = base64.b64encode(hashlib.sha256(accent.encode()).digest()).decode()
            directives["style-src"].append(f"'sha256-{digest}'")
        # The editor's preview of a scanner page: its pictures' placeholder styles, and where its sound comes from.
        directives["style-src"] += getattr(request, "csp_style_sources", [])
        if media := getattr(request, "csp_media_origins", ()):
            directives["media-src"] = ["'self'", *media]
        return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class HealthCheckMiddleware:
    """Answers /healthz before the host picks a workspace: probes (Render's, Docker's) bring host names of their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
