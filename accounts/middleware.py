"""Choosing the workspace (and so the schema) from the request's host."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from lib.lastgood import LastGoodCopies
from lib.outage import database_outage
from lib.timed import TimedCache

logger = logging.getLogger(__name__)

# Finding the workspace for a host costs an ORM query (~0.5 ms of CPU) on every
# request; scanner pages answer in a few ms, so each process remembers its hosts
# for settings.TENANT_HOST_CACHE_SECONDS. A change in this process forgets them at
# once (see AccountsConfig.ready); other processes see it within that time.
# While the database is away, the last workspace seen for a host is used however old
# (this process's, else the machine's copy on disk): scanner pages keep answering.
HOST_CACHE_SIZE = 10_000
_hosts: TimedCache = TimedCache(size=HOST_CACHE_SIZE)
_last_good: LastGoodCopies | None = None


def forget_hosts(**kwargs) -> None:
    _hosts.clear()


def _copies() -> LastGoodCopies:
    global _last_good
    if _last_good is None:
        _last_good = LastGoodCopies(settings.LAST_GOOD_DIR / "hosts")
    return _last_good


def unavailable() -> HttpResponse:
    """503 while the database is away: a page that needs nothing from it, and when to try again."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class TenantMiddleware(TenantMainMiddleware):
    """The request's workspace from its host; and the one place a lost database becomes a 503, logged once."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return super().process_request(request)
        except (OperationalError, InterfaceError) as error:
            database_outage.failed(error)
            return unavailable()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            database_outage.failed(exception)
            return unavailable()
        return None

    @staticmethod
    def hostname_from_request(request) -> str:
        return TenantMainMiddleware.hostname_from_request(request).lower()

    def get_tenant(self, domain_model, hostname):
        tenant = _hosts.get(hostname)
        if tenant is not None:
            return tenant
        try:
            tenant = super().get_tenant(domain_model, hostname)
        except (OperationalError, InterfaceError) as error:
            tenant = _hosts.get_stale(hostname) or _copies().load(hostname)
            if tenant is None:
                raise
            database_outage.failed(error)
            return tenant
        database_outage.recovered()
        _hosts.put(hostname, tenant, seconds=settings.TENANT_HOST_CACHE_SECONDS)
        try:
            _copies().save(hostname, tenant)
        except OSError as error:
            logger.warning("could not keep a copy of host %s: %s", hostname, error)
        return tenant
