"""Rendered scanner pages, kept for every process: in the process for a few seconds, in the shared cache behind it.

A page is the same for everyone, so it is rendered once and kept, with what recording its scan needs (stop and
trail ids), under page_key(): the workspace's schema is part of the key, so one workspace's page can never answer
on another's host, even for the same token. Each process keeps pages for settings.SCANNER_PAGE_CACHE_SECONDS;
behind that the cache (Redis, else the database cache) keeps them for every process and machine, under the
workspace's generation (lib/shared.py). Saving a trail, a stop, a workspace (its name, branding, theme, website,
logo) gives the workspace a new generation (see TrailsConfig.ready): every process's next scan that
misses its own copy renders the change; those copies expire within SCANNER_PAGE_CACHE_SECONDS.
While the database is away, the last good copy is served however old (this process's, else the one its machine
keeps on disk), and scans are still recorded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from lib.shared import SharedCopies
from lib.stale import StaleIfError

PAGE_CACHE_SIZE = 20_000


def page_key(schema: str, token: str, *parts: str) -> str:
    """The one key of a scanner page: its workspace's schema first (the generation's scope), its token, then any
    further part the page varies by (a language, say). Schemas and tokens hold no colon."""
    return ":".join((schema, token, *parts))


def _workspace_of(key: str) -> str:
    return key.partition(":")[0]


pages: StaleIfError = StaleIfError(
    size=PAGE_CACHE_SIZE,
    seconds=lambda: settings.SCANNER_PAGE_CACHE_SECONDS,
    directory=lambda: settings.LAST_GOOD_DIR / "pages",
    shared=SharedCopies("page", seconds=lambda: settings.SHARED_CACHE_SECONDS, scope=_workspace_of),
)


def forget_pages(sender=None, instance=None, **kwargs) -> None:
    """Forget pages after a change: this process's, and the changed workspace's for every process.

    A new row counts too: a new stop or translation changes pages kept already (their neighbours, the
    languages they list). The workspace is the instance itself (its name, branding...), else the connection's
    (a trail or a stop is saved in its workspace's schema). Called with no instance (tests), this process
    forgets every page and stops reading the shared ones.
    """
    pages.clear()
    if instance is None:
        pages.shared.clear()
        return
    schema = getattr(instance, "schema_name", None) or connection.schema_name
    pages.shared.forget_scope(schema)
    # Again once committed: a scan in between may have rendered the rows as they were and shared that.
    transaction.on_commit(lambda: pages.shared.forget_scope(schema))
