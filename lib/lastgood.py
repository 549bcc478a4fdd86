"""The last good copy of things a web process made from the database, kept on local disk.

Shared by the processes of one machine, so a process that starts while the database is away
(a worker replaced after a crash) can still answer with what its siblings saw last. Each copy
is a file named by a hash of its key, replaced atomically; a reader sees a whole copy or none.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any


class LastGoodCopies:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / hashlib.sha256(key.encode()).hexdigest()

    def save(self, key: str, value: Any) -> None:
        """Keep `value` (anything pickle takes) as the copy for `key`. Failures are the caller's to ignore."""
        path = self._path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, path)

    def load(self, key: str) -> Any | None:
        try:
            stored_key, value = pickle.loads(self._path(key).read_bytes())  # noqa: S301 - our own files only
        except (OSError, pickle.UnpicklingError, EOFError, ValueError):
            return None
        return value if stored_key == key else None
