"""Deleting a folder of files from the default storage, on the local file system or in an S3 bucket alike."""

from __future__ import annotations

import contextlib
import logging
import os

from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


def delete_files(paths: list[str]) -> None:
    """Delete each file, logging (never raising) a failure: an orphan file is only bytes, and a caller cleaning
    up after an error must not hide that error with its own."""
    for path in paths:
        try:
            default_storage.delete(path)
        except Exception:
            logger.warning("Could not delete the stored file %s", path, exc_info=True)


def delete_prefix(prefix: str) -> None:
    """Delete every file under `prefix` (a folder: "workspaces/acme/"), however deep, from the default storage."""
    if not prefix.endswith("/") or prefix == "/":
        raise ValueError(f"A prefix is a folder ending in /, not {prefix!r}")
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:  # S3: listed and deleted a thousand keys at a time
        bucket.objects.filter(Prefix=prefix).delete()
        return
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return
    delete_files([f"{prefix}{name}" for name in files])
    for folder in folders:
        delete_prefix(f"{prefix}{folder}/")
    if hasattr(default_storage, "path"):  # the local file system keeps empty folders: remove them
        with contextlib.suppress(OSError):  # not empty (a file came in meanwhile), or gone already
            os.rmdir(default_storage.path(prefix))
