from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from tests.fixtures.trails import trail_markdown
from trails.models import Trail


def test_it_imports_a_trail_and_updates_it_by_title_keeping_tokens(workspace_a, tmp_path, capsys):
    document = tmp_path / "walk.md"
    document.write_text(trail_markdown())
    call_command("import_trail", "alpha", str(document), "--publish")
    with schema_context("alpha"):
        trail = Trail.objects.get()
        before = {s.key: s.token for s in trail.stops.all()}
        assert trail.is_open

    document.write_text(trail_markdown(stops=[("fountain", "The Fountain"), ("bridge", "The Bridge")]))
    call_command("import_trail", "alpha", str(document))

    with schema_context("alpha"):
        trail = Trail.objects.get()
        assert {s.key: s.token for s in trail.live_stops()} == {k: before[k] for k in ("fountain", "bridge")}
    assert "Updated 'Old Town Walk' with 2 stops" in capsys.readouterr().out


def test_it_refuses_a_document_with_errors_and_saves_nothing(workspace_a, tmp_path):
    document = tmp_path / "bad.md"
    document.write_text("Just an intro, no stops.")

    with pytest.raises(CommandError, match="has errors"):
        call_command("import_trail", "alpha", str(document))
    with schema_context("alpha"):
        assert not Trail.objects.exists()


def test_it_refuses_an_unknown_workspace(workspace_a, tmp_path):
    document = tmp_path / "walk.md"
    document.write_text(trail_markdown())

    with pytest.raises(CommandError, match="No workspace"):
        call_command("import_trail", "public", str(document))
