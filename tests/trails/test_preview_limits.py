"""Previews (assembling without saving) are limited per caller: on the dashboard, per user (the API: per key)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.fixtures.trails import trail_markdown
from tests.fixtures.workspaces import host_client

pytestmark = pytest.mark.usefixtures("one_clock_minute")

LIMIT = 60
DOCUMENT = trail_markdown()


@pytest.fixture(autouse=True)
def _no_counts_yet(db):
    cache.clear()
    yield
    cache.clear()


def test_a_viewer_gets_60_previews_a_minute_then_a_pause_another_member_does_not(cast, workspace_a):
    viewer, editor = host_client(workspace_a), host_client(workspace_a)
    viewer.force_login(cast.viewer)
    editor.force_login(cast.editor)

    statuses = [viewer.post("/dashboard/trails/preview", {"source": DOCUMENT}).status_code for _ in range(LIMIT + 1)]

    assert statuses == [200] * LIMIT + [429]
    paused = viewer.post("/dashboard/trails/preview", {"source": DOCUMENT})
    assert paused["Retry-After"] == "60" and "preview pauses" in paused.content.decode()
    assert editor.post("/dashboard/trails/preview", {"source": DOCUMENT}).status_code == 200
