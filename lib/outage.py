"""Logging an outage once, not once per failed attempt: when it starts, and when it ends with a count."""

from __future__ import annotations

import logging
import threading
import time


class Outage:
    """Tracks one dependency ("database", "Redis") for this process.

    `failed()` logs the first failure of an outage as an error (with the reason, without a
    traceback: the cause is outside our code) and only counts the rest; `recovered()` logs the
    end with how long it lasted and how many failures it hid. Safe to call from several threads.
    """

    def __init__(self, name: str, logger: logging.Logger) -> None:
        self.name = name
        self.logger = logger
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0

    def failed(self, error: BaseException, *, note: str = "") -> None:
        with self._lock:
            self._failures += 1
            if self._since is not None:
                return
            self._since = time.monotonic()
        reason = str(error).strip() or type(error).__name__
        self.logger.error("%s unavailable: %s%s", self.name, reason, f" ({note})" if note else "")

    def recovered(self) -> None:
        if self._since is None:
            return
        with self._lock:
            if self._since is None:
                return
            lasted, failures = time.monotonic() - self._since, self._failures
            self._since, self._failures = None, 0
        self.logger.warning("%s back after %.1f s (%d failed attempts in between)", self.name, lasted, failures)


# This process's view of the database, shared by the middleware and views that keep answering without it.
database_outage = Outage("database", logging.getLogger("qrcards.database"))
