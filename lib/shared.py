"""Values made from the database, shared by every process and machine through Django's cache (Redis in production).

The per-process copies (lib.stale) last a few seconds; with traffic spread over many workspaces almost every
request misses them. A SharedCopies sits behind them, so a value one process made serves every other one.

- Keys name what they are for themselves (a workspace's pages: the schema is part of the key), in a cache of their
  own (settings.CACHES["shared"]) whose key function adds nothing of the connection's schema.
- Scoped values (a workspace's pages) are kept with the scope's generation, a random word in the cache; a value
  is served only under the generation it was made in. `forget_scope` sets a new one: every value of that scope is
  gone at once, for every process. A generation lost from the cache is replaced by a new random one, which no
  old value carries. The generation is read before the value is made, so a change saved meanwhile wins.
- Every value also expires after `seconds`: a safety net, not the way changes are seen.
- The cache being away (Redis down, or the database for the database cache) fails no request: the outage is
  logged once, values are made as if there were no cache, and the cache is tried again a few seconds later.
  A change saved while it is away can't be forgotten there: until SHARED_CACHE_SECONDS pass, a process that
  misses its own copy may still read the value from before (the change is retried once, at its commit).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import caches
from django.db import InterfaceError, OperationalError
from redis.exceptions import RedisError

from lib.outage import Outage, database_outage

V = TypeVar("V")
ALIAS = "shared"  # settings.CACHES: Redis, else a database table of its own
RETRY_SECONDS = 5.0
DATABASE_AWAY = (OperationalError, InterfaceError)
cache_outage = Outage("shared cache", logging.getLogger("qrcards.cache"))
_retry_at = 0.0
UNSCOPED = "-"
LONGEST_KEY = 150


def _call(method: str, *args, always: bool = False):
    """cache.`method`(*args), or None while the cache is away (its outage logged once).

    Skipped for RETRY_SECONDS after a failure, unless `always` (forgetting: a change must reach the cache if it can).
    """
    global _retry_at
    if not always and _retry_at and time.monotonic() < _retry_at:
        return None
    try:
        result = getattr(caches[ALIAS], method)(*args)
    except (RedisError, *DATABASE_AWAY) as error:
        (database_outage if isinstance(error, DATABASE_AWAY) else cache_outage).failed(error)
        _retry_at = time.monotonic() + RETRY_SECONDS
        return None
    _retry_at = 0.0
    cache_outage.recovered()
    return result


class SharedCopies(Generic[V]):
    """Values of one kind (`name`); scoped by `scope(key)` when given, each scope with its generation."""

    def __init__(self, name: str, *, seconds: Callable[[], float], scope: Callable[[str], str] | None = None) -> None:
        self.name = name
        self._seconds = seconds
        self._scope = scope
        self._epoch = ""

    def _key(self, kind: str, key: str) -> str:
        if len(key) > LONGEST_KEY:  # a hostile Host header: the database cache's keys are 255 characters at most
            key = hashlib.sha256(key.encode()).hexdigest()
        return f"{self.name}{self._epoch}:{kind}:{key}"

    def load(self, key: str) -> tuple[V | None, str | None]:
        """The value kept for `key` (None if there is none), and the stamp `save` needs to keep a new one."""
        value_key = self._key("v", key)
        if self._scope is None:
            entry = _call("get", value_key)
            return (entry[1] if entry else None), UNSCOPED
        generation_key = self._key("g", self._scope(key))
        found = _call("get_many", [generation_key, value_key])
        if found is None:
            return None, None
        generation = found.get(generation_key)
        if generation is None:
            # add, not set: another process may have made one just now, and values carry that one.
            _call("add", generation_key, secrets.token_hex(8), None)
            return None, _call("get", generation_key)
        entry = found.get(value_key)
        return (entry[1] if entry and entry[0] == generation else None), generation

    def save(self, key: str, value: V, stamp: str | None) -> None:
        if stamp is not None:
            _call("set", self._key("v", key), (stamp, value), self._seconds())

    def forget(self, *keys: str) -> None:
        """Unscoped values: forget these keys' for every process."""
        if keys:
            _call("delete_many", [self._key("v", key) for key in keys], always=True)

    def forget_scope(self, scope: str) -> None:
        """Scoped values: forget every one of `scope`, for every process."""
        _call("set", self._key("g", scope), secrets.token_hex(8), None, always=True)

    def clear(self) -> None:
        """This process no longer reads anything kept before (tests start each with a clean slate this way)."""
        self._epoch = f"@{secrets.token_hex(4)}"
