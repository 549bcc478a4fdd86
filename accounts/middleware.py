"""Choosing the workspace (and so the schema) from the request's host."""

from __future__ import annotations

import time

from django.conf import settings
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
