"""Choosing the workspace (and so the schema) from the request's host; keeping each session to its host."""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.http.request import split_domain_port
from django_tenants.middleware.main import TenantMainMiddleware

# Finding the workspace for a host costs an ORM query (~0.5 ms of CPU) on every
# request; scanner pages answer in a few ms, so each process remembers its hosts
# for settings.TENANT_HOST_CACHE_SECONDS. A change in this process forgets them at
# once (see AccountsConfig.ready); other processes see it within that time.
HOST_CACHE_SIZE = 10_000
_hosts: dict[str, tuple[float, object]] = {}


def forget_hosts(**kwargs) -> None:
    _hosts.clear()


class TenantMiddleware(TenantMainMiddleware):
    @staticmethod
    def hostname_from_request(request) -> str:
        return TenantMainMiddleware.hostname_from_request(request).lower()

    def get_tenant(self, domain_model, hostname):
        now = time.monotonic()
        cached = _hosts.get(hostname)
        if cached and cached[0] > now:
            return cached[1]
        tenant = super().get_tenant(domain_model, hostname)
        if len(_hosts) >= HOST_CACHE_SIZE:
            _hosts.clear()
        _hosts[hostname] = (now + settings.TENANT_HOST_CACHE_SECONDS, tenant)
        return tenant


SESSION_HOST_KEY = "_qrcards_host"


class SessionHostMiddleware:
    """A session is a log-in only on the host it was made on. Goes right after SessionMiddleware.

    Cookies are host-only, but every host's sessions live in one table: a session cookie copied
    from one host to another would otherwise be a log-in there too (a staff member's, on every
    /admin/). So a session records the host it was made on, and one presented on another host
    is set aside for that request: a new, empty session takes its place (the visitor is
    anonymous there), and the session itself is left alone, still working on its own host.
    The cross-host hand-over (accounts.views.handoff) stays the only way across.

    Bound to the host, not the workspace: a browser sends a host-only cookie back to its host
    alone, so a person with a workspace on two hosts (a custom domain) logs in on each anyway;
    binding to the host asks nothing more of them, and a cookie leaked from a host we don't
    run ourselves (a customer's domain behind their own proxy) is no log-in on ours.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    def __call__(self, request):
        host = split_domain_port(request.get_host())[0]
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            bound = request.session.get(SESSION_HOST_KEY)
            if bound is None and not request.session.is_empty():
                # Made before sessions were bound, or by the test client's force_login: bound where first used.
                request.session[SESSION_HOST_KEY] = host
            elif bound is not None and bound != host:
                request.session = self.session_store()
        response = self.get_response(request)
        session = request.session
        if session.modified and not session.is_empty() and SESSION_HOST_KEY not in session:
            session[SESSION_HOST_KEY] = host
        return response
