"""PATCH /trails/{id}: a trail's title, theme and status changed without resending its Markdown."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

import dap
from trails.models import Trail


def _patch(client, trail, body: dict):
    return client.patch(f"/api/v1/trails/{trail.pk}", json.dumps(body), content_type="application/json")


def _fresh(trail) -> Trail:
    with schema_context("alpha"):
        return Trail.objects.get(pk=trail.pk)


def _tokens(trail) -> list[str]:
    with schema_context("alpha"):
        return list(trail.live_stops().values_list("token", flat=True))


def test_a_new_title_is_written_into_the_documents_front_matter_as_a_new_version(writer, trail_a):
    tokens = _tokens(trail_a)

    response = _patch(writer, trail_a, {"title": 'The "Old" Town — at night'})

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["version"]) == ('The "Old" Town — at night', trail_a.version + 1)
    stored = _fresh(trail_a)
    assert dap.assemble(stored.source).title == 'The "Old" Town — at night'
    assert "## The Fountain {#fountain}" in stored.source  # the rest of the document is untouched
    assert _tokens(trail_a) == tokens


def test_a_new_theme_changes_the_theme_line_and_keeps_the_title(writer, trail_a):
    body = _patch(writer, trail_a, {"theme": "museum"}).json()

    assert (body["theme"], body["title"]) == ("museum", "Old Town Walk")
    assert 'theme = "museum"' in _fresh(trail_a).source


def test_a_title_is_added_to_a_document_without_front_matter(writer, workspace_a):
    from tests.fixtures.trails import make_trail

    trail = make_trail(workspace=workspace_a, source="## The Fountain {#fountain}\nBuilt in 1820.\n")

    body = _patch(writer, trail, {"title": "Fountains"}).json()

    assert body["title"] == "Fountains"
    assert _fresh(trail).source.startswith('+++\ntitle = "Fountains"\n+++\n## The Fountain')


def test_the_status_alone_changes_without_a_new_version(writer, trail_a):
    body = _patch(writer, trail_a, {"status": "archived"}).json()

    assert (body["status"], body["version"]) == ("archived", trail_a.version)
    assert _fresh(trail_a).status == "archived"


def test_a_stale_version_is_a_409_and_changes_nothing(writer, trail_a):
    _patch(writer, trail_a, {"title": "Someone else's title"})

    response = _patch(writer, trail_a, {"title": "Mine", "status": "draft", "version": trail_a.version})

    assert response.status_code == 409 and response.json()["error"]["code"] == "stale_version"
    stored = _fresh(trail_a)
    assert (stored.title, stored.status) == ("Someone else's title", "published")


def test_the_current_version_is_accepted(writer, trail_a):
    response = _patch(writer, trail_a, {"title": "Mine", "version": trail_a.version})

    assert response.status_code == 200 and response.json()["title"] == "Mine"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"theme": "neon"}, ["body", "theme"]),
        ({"title": ""}, ["body", "title"]),
        ({"title": "x" * 201}, ["body", "title"]),
        ({"title": "A\x00B"}, ["body", "title"]),
        ({"stauts": "published"}, ["body", "stauts"]),
    ],
)
def test_bad_values_and_unknown_fields_are_a_422_naming_the_field(writer, trail_a, body, loc):
    response = _patch(writer, trail_a, body)

    assert response.status_code == 422
    assert [detail["loc"] for detail in response.json()["error"]["details"]] == [loc]
    assert _fresh(trail_a).version == trail_a.version


def test_a_read_key_may_not_patch(reader, trail_a):
    assert _patch(reader, trail_a, {"status": "draft"}).status_code == 403
    assert _fresh(trail_a).status == "published"
