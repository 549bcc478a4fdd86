"""The demo trail's pictures and audio guide: shipped in the repo, put in the library like any upload."""

from __future__ import annotations

import re

from django_tenants.utils import schema_context

import dap
from tests.fixtures.trails import make_trail
from trails.demo import DEMO_MEDIA, DEMO_MEDIA_FILES, DEMO_TRAIL, DEMO_TRANSLATIONS, add_media
from trails.models import Asset

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
KINDS = {name: "audio" if name.endswith(".mp3") else "image" for name in DEMO_MEDIA_FILES}


def test_the_demo_documents_use_the_demo_media_with_nothing_to_report():
    main = dap.assemble(DEMO_TRAIL.read_text(), media=KINDS)
    french = dap.assemble(DEMO_TRANSLATIONS["fr"].read_text(), media=KINDS)

    assert main.diagnostics == () and french.diagnostics == ()
    assert {reference.name for reference in dap.media_references(DEMO_TRAIL.read_text())} == set(DEMO_MEDIA_FILES)
    report = dap.compare(main, french, tag="fr")
    assert "media-differs" not in [d.code for d in report.diagnostics]


def test_the_demo_media_is_licensed_for_it():
    readme = (DEMO_MEDIA / "README.md").read_text()

    assert all(name in readme for name in DEMO_MEDIA_FILES)
    assert "CC0 1.0" in readme


def test_the_demo_media_enters_the_library_once_and_shows_on_the_demo_stops(client_a, workspace_a, media_root):
    with schema_context(workspace_a.schema_name):
        add_media(DEMO_MEDIA, DEMO_MEDIA_FILES)
        add_media(DEMO_MEDIA, DEMO_MEDIA_FILES)  # again, as `make run` does each time: nothing more
        assert sorted(Asset.objects.values_list("name", "kind")) == sorted(KINDS.items())
    trail = make_trail(workspace=workspace_a, source=DEMO_TRAIL.read_text())
    with schema_context(workspace_a.schema_name):
        fountain, tower = trail.stops.get(key="fountain"), trail.stops.get(key="clock-tower")

    first = client_a.get(f"/qr/{fountain.token}", HTTP_USER_AGENT=PHONE)
    second = client_a.get(f"/qr/{tower.token}", HTTP_USER_AGENT=PHONE).content.decode()

    assert re.search(r'<picture><source type="image/webp" srcset="/media/[\w-]+/[^"]+ 480w, ', first.content.decode())
    assert len(first.content) < 10 * 1024
    assert '<audio controls preload="none"' in second
    assert '<details class="transcript"><summary>Transcript</summary>' in second
    assert "media-missing" not in first.content.decode() + second
