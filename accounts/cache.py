"""Cache keys: each workspace's own, except rate-limit counters, which count a person or a client on every host.

The cache's keys carry the schema they were made in (django-tenants' key function), so no
workspace reads another's entries. Rate limits must not: allauth counts failed log-ins per
address and per client in the default cache (allauth.core.internal.ratelimit uses
django.core.cache.cache, whatever its key function), and per schema, one address would get
five tries on the public host plus five on each of its workspaces.
"""

from __future__ import annotations

from django_tenants.cache import make_key as workspace_key
from django_tenants.cache import reverse_key

# allauth's counters (failed log-ins, codes, our staff-admin log-ins...), and ours (qrcards.api).
GLOBAL_PREFIXES = ("allauth:rl:", "rl:")
# Where a schema's name goes in a workspace's key: no schema can be called "*".
EVERY_HOST = "*"

__all__ = ["make_key", "reverse_key"]


def make_key(key: str, key_prefix: str, version: int) -> str:
    if key.startswith(GLOBAL_PREFIXES):
        return f"{EVERY_HOST}:{key_prefix}:{version}:{key}"
    return workspace_key(key, key_prefix, version)
