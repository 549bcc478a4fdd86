"""Analytics reads from a streaming replica (DATABASE_REPLICA_URL), everything else on the primary.

Only reads made inside `analytics_reads()` go to the replica: the analytics page's counts and the raw scans
export, where a second or so of replication lag is harmless. Everything else reads the primary, so nobody who
has just saved something reads an older copy of it. Writes always go to the primary, and the replica is never
migrated (it replays the primary's migrations).

django-tenants sets `search_path` per connection, from the tenant the middleware gives the default connection;
`analytics_reads()` gives the replica's connection the same tenant, so it reads the same workspace's tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

REPLICA = "replica"

_analytics = ContextVar("analytics_reads", default=False)


def analytics_database() -> str:
    """The alias analytics reads use: the replica when one is configured, else the primary."""
    return REPLICA if REPLICA in settings.DATABASES else DEFAULT_DB_ALIAS


@contextmanager
def analytics_reads(schema: str | None = None) -> Iterator[str]:
    """Within this block, reads go to the replica (when configured), in `schema` or the current tenant's schema.

    Yields the alias the reads use.
    """
    alias = analytics_database()
    wanted = schema or connection.schema_name
    if alias != DEFAULT_DB_ALIAS and connections[alias].schema_name != wanted:
        connections[alias].set_schema(wanted)
    token = _analytics.set(True)
    try:
        yield alias
    finally:
        _analytics.reset(token)


class ReplicaRouter:
    """Listed before django-tenants' TenantSyncRouter, which decides what is migrated in which schema."""

    def db_for_read(self, model, **hints) -> str | None:
        return analytics_database() if _analytics.get() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replica holds the primary's rows: an object read from either may point to one read from the other.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool | None:
        return False if db == REPLICA else None
