"""Choosing the workspace (and so the schema) from the request's host; keeping each session to its host."""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.http.request import split_domain_port
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_tenant_domain_model

from lib.networks import parse_ip
from lib.outage import database_outage
from lib.shared import SharedCopies
from lib.stale import DATABASE_AWAY, StaleIfError

logger = logging.getLogger(__name__)

# Finding the workspace for a host costs an ORM query (~0.5 ms of CPU) on every
# request; scanner pages answer in a few ms, so each process remembers its hosts
# for settings.TENANT_HOST_CACHE_SECONDS, and behind that every process shares them
# in the cache (lib.shared) for SHARED_CACHE_SECONDS: traffic spread over many workspaces
# finds its hosts there. A change forgets them at once, in this process and in the shared
# cache (see AccountsConfig.ready); other processes' own copies expire within a few seconds.
# While the database is away, the last workspace seen for a host is used however old
# (this process's, else the machine's copy on disk): scanner pages keep answering.
HOST_CACHE_SIZE = 10_000
_hosts: StaleIfError = StaleIfError(
    size=HOST_CACHE_SIZE,
    seconds=lambda: settings.TENANT_HOST_CACHE_SECONDS,
    directory=lambda: settings.LAST_GOOD_DIR / "hosts",
    shared=SharedCopies("host", seconds=lambda: settings.SHARED_CACHE_SECONDS),
)


def forget_hosts(sender=None, instance=None, created=False, **kwargs) -> None:
    """Forget hosts after a change to a workspace or a host: this process's, and the changed ones' for everyone.

    Called with no instance (tests), this process forgets every host and stops reading the shared ones.
    """
    _hosts.clear()
    if created:
        return  # nothing was kept for what did not exist: a host or page not found is never kept
    if instance is None:
        _hosts.shared.clear()
        return
    hosts = _hosts_of(instance)
    _hosts.shared.forget(*hosts)
    # Again once the change is committed: a process may have read the old rows in between and shared them.
    transaction.on_commit(lambda: _hosts.shared.forget(*hosts))


def _hosts_of(instance) -> list[str]:
    """The hosts whose workspace `instance` (a Domain, or a workspace with its hosts) changes."""
    domain = getattr(instance, "domain", None)
    if isinstance(domain, str):
        return [domain]
    return list(get_tenant_domain_model().objects.filter(tenant_id=instance.pk).values_list("domain", flat=True))


def unavailable() -> HttpResponse:
    """503 while the database is away: a page that needs nothing from it, and when to try again."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # by database_outage, once per outage: not by Django once per request
    return response


def canonical_host(hostname: str) -> str:
    """The host whose Domain row answers for `hostname`: itself, lower-cased; our public host for its www.

    django-tenants drops "www." from every host; only our own public host's www is an alias of it, since
    a workspace's custom domain may well be www.museum.org (and museum.org someone else's, or nobody's).
    """
    hostname = hostname.lower().removesuffix(".")
    return settings.QRCARDS_DOMAIN if hostname == f"www.{settings.QRCARDS_DOMAIN}" else hostname


def served_tenant(domain_model, hostname: str):
    """The workspace `hostname` is a served host of: its own host, or a custom domain once verified.

    An unverified custom domain is not found, exactly like a host nobody has: it serves nothing and says nothing.
    """
    domain = domain_model.objects.select_related("tenant").get(domain=hostname)
    # Checked here, not in the query (Domain.objects.served()): the query stays the one every host had before;
    # with the OR in SQL a lookup took 1.22 times as long (medians of 4000 interleaved lookups, same database).
    if not domain.is_served:
        raise domain_model.DoesNotExist(hostname)
    return domain.tenant


class TenantMiddleware(TenantMainMiddleware):
    """The request's workspace from its host; and the one place a lost database becomes a 503, logged once."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return super().process_request(request)
        except DATABASE_AWAY as error:
            database_outage.failed(error)
            return unavailable()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_AWAY):
            database_outage.failed(exception)
            return unavailable()
        return None

    @staticmethod
    def hostname_from_request(request) -> str:
        return canonical_host(split_domain_port(request.get_host())[0])

    def get_tenant(self, domain_model, hostname):
        return _hosts.get(hostname, lambda: served_tenant(domain_model, hostname))


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


TLS_ASK_PATH = "/internal/tls-ask"


def _logged(response: HttpResponse) -> HttpResponse:
    # Logged by TlsAskMiddleware, once: not again as Django's "Not Found" warning for every name a scanner tries.
    response._has_been_logged = True
    return response


class TlsAskMiddleware:
    """Answers Caddy's question before it gets a certificate on demand: may it have one for ?domain=…?

    200 for a host we serve (a workspace's own host, the public host, a verified custom domain), 404 for
    any other name: nobody can make us ask a CA for certificates of names that aren't ours to serve.

    Only the proxy itself may ask: a request from one of TRUSTED_PROXIES that carries no X-Forwarded-For
    (Caddy's ask is its own request, not one it forwards for a client; it reaches gunicorn directly, with
    whatever Host the `ask` URL names, so the question is answered before any host picks a workspace).
    Anyone else gets the 404 of a page that doesn't exist; and deploy/Caddyfile answers /internal/ with a
    404 itself, so the path is never even forwarded. Goes first: it reads the peer's own address.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != TLS_ASK_PATH:
            return self.get_response(request)
        if not self._from_the_proxy(request):
            logger.warning("tls-ask from %s refused: not one of TRUSTED_PROXIES", request.META.get("REMOTE_ADDR"))
            return _logged(HttpResponseNotFound(render_to_string("404.html")))
        name = canonical_host(request.GET.get("domain", "").strip())
        if not name:
            return HttpResponseBadRequest("?domain= is missing", content_type="text/plain")
        domain_model = get_tenant_domain_model()
        try:
            served = domain_model.objects.served().filter(domain=name).exists()
        except DATABASE_AWAY as error:
            database_outage.failed(error)
            return unavailable()
        logger.info("tls-ask %s: %s", name, "allowed" if served else "refused")
        if served:
            return HttpResponse("ok", content_type="text/plain")
        return _logged(HttpResponseNotFound("not a host of ours", content_type="text/plain"))

    @staticmethod
    def _from_the_proxy(request: HttpRequest) -> bool:
        if "HTTP_X_FORWARDED_FOR" in request.META:
            return False
        peer = parse_ip(request.META.get("REMOTE_ADDR", ""))
        return peer is not None and any(peer in network for network in settings.TRUSTED_PROXIES_NETWORKS)
