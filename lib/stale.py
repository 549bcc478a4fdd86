"""Values made from the database, served fresh for a few seconds, and served stale while the database is away.

The scanner page's fast path keeps two of these: host → workspace, and rendered pages. A value is kept in
the process (lib.timed) for `seconds`; its last good copy is also kept on local disk (lib.lastgood), so a
process that starts while the database is away can still answer with what its siblings saw last. With `shared`
(lib.shared), a value missing from the process is looked for in the cache every process shares before it is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from lib.lastgood import LastGoodCopies
from lib.outage import database_outage
from lib.shared import DATABASE_AWAY, SharedCopies
from lib.timed import TimedCache

V = TypeVar("V")
logger = logging.getLogger(__name__)


class StaleIfError(Generic[V]):
    def __init__(
        self,
        *,
        size: int,
        seconds: Callable[[], float],
        directory: Callable[[], Path],
        shared: SharedCopies[V] | None = None,
    ) -> None:
        self._memory: TimedCache[V] = TimedCache(size=size)
        self.shared = shared
        self._seconds = seconds
        self._directory = directory
        self._copies: LastGoodCopies | None = None

    def get(self, key: str, make: Callable[[], V], *, keep: Callable[[V], bool] = lambda value: True) -> V:
        """The fresh value for `key`, else `make()`'s (kept if `keep` says so), else the last good one.

        Raises what `make` raises; when the database is away and there is no copy, the database's error.
        """
        value = self._memory.get(key)
        if value is not None:
            return value
        stamp = None
        if self.shared is not None:
            value, stamp = self.shared.load(key)
            if value is not None:
                self._memory.put(key, value, seconds=self._seconds())
                return value
        try:
            value = make()
        except DATABASE_AWAY as error:
            database_outage.failed(error)
            stale = self._memory.get_stale(key) or self.copies.load(key)
            if stale is None:
                raise
            return stale
        database_outage.recovered()
        if keep(value):
            self._memory.put(key, value, seconds=self._seconds())
            try:
                self.copies.save(key, value)
            except OSError as error:
                logger.warning("could not keep a last good copy: %s", error)
            if self.shared is not None:
                self.shared.save(key, value, stamp)
        return value

    @property
    def copies(self) -> LastGoodCopies:
        if self._copies is None:
            self._copies = LastGoodCopies(self._directory())
        return self._copies

    def clear(self) -> None:
        """Forget the fresh values (a change was saved here); the last good copies stay for an outage."""
        self._memory.clear()
