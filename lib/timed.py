"""A per-process map whose entries are fresh for a while, then stale but still at hand.

The scanner page's fast path keeps three of these (hosts → workspaces, rendered pages,
visitor salts). A stale entry is never served as fresh, but it is the last good copy:
when the database is away, a stale page beats an error page (stale-if-error).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TimedCache(Generic[V]):
    """At most `size` entries; when full, the oldest written goes first. Not shared between processes."""

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._entries: dict[Hashable, tuple[float, V]] = {}

    def get(self, key: Hashable) -> V | None:
        """The value if it is still fresh, else None."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def get_stale(self, key: Hashable) -> V | None:
        """The last value written, however old, or None."""
        entry = self._entries.get(key)
        return entry[1] if entry else None

    def put(self, key: Hashable, value: V, *, seconds: float) -> None:
        # Written again, an entry moves to the end: it becomes the newest.
        self._entries.pop(key, None)
        while len(self._entries) >= self.size:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (time.monotonic() + seconds, value)

    def clear(self) -> None:
        self._entries.clear()
