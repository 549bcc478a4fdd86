"""Deleting a workspace deletes its files (media library and logo), on the local file system and in S3."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django_tenants.utils import schema_context

from accounts.workspaces import create_workspace
from lib.storage import delete_prefix
from tests.fixtures.media import audio_upload, image_bytes, image_upload
from trails.media import add_asset


@pytest.fixture
def doomed(cast, db):
    return create_workspace(name="Doomed Walks", slug="doomed", owner=cast.owner)


def fill(workspace) -> list[str]:
    """A picture, a sound and a logo in `workspace`; the files stored for them."""
    with schema_context(workspace.schema_name):
        add_asset(name="heron.jpg", upload=image_upload(width=600, height=400))
        add_asset(name="guide.mp3", upload=audio_upload())
    workspace.logo.save("logo.png", ContentFile(image_bytes(format="PNG", width=64, height=64)))
    return everything_under(f"workspaces/{workspace.schema_name}/")


def everything_under(prefix: str) -> list[str]:
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return []
    found = [prefix + name for name in files]
    for folder in folders:
        found += everything_under(f"{prefix}{folder}/")
    return sorted(found)


def delete(workspace, capture) -> None:
    with capture(execute=True):
        workspace.delete_workspace()


def test_deleting_a_workspace_deletes_its_media_and_logo_and_nothing_of_another(
    doomed, workspace_a, media_root, django_capture_on_commit_callbacks
):
    kept = fill(workspace_a)
    files = fill(doomed)
    assert len(files) == 1 + 5 + 1 + 1  # a picture's original, its 4 variants and thumbnail, a sound, a logo

    delete(doomed, django_capture_on_commit_callbacks)

    assert everything_under("workspaces/doomed/") == []
    assert not (media_root / "workspaces" / "doomed").exists()
    assert everything_under(f"workspaces/{workspace_a.schema_name}/") == kept


def test_deleting_a_workspace_deletes_its_files_from_the_bucket(
    doomed, workspace_a, s3_media, django_capture_on_commit_callbacks
):
    kept = fill(workspace_a)
    fill(doomed)
    assert s3_media.keys("workspaces/doomed/") != []

    delete(doomed, django_capture_on_commit_callbacks)

    assert s3_media.keys("workspaces/doomed/") == []
    assert s3_media.keys(f"workspaces/{workspace_a.schema_name}/") == kept


def test_files_stay_when_the_deletion_is_rolled_back(doomed, media_root, django_capture_on_commit_callbacks):
    files = fill(doomed)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        doomed.delete_workspace()

    assert len(callbacks) >= 1  # waiting for the commit: nothing deleted yet
    assert everything_under("workspaces/doomed/") == files


def test_a_prefix_must_be_a_folder(media_root):
    with pytest.raises(ValueError):
        delete_prefix("workspaces/doomed")
    with pytest.raises(ValueError):
        delete_prefix("")
