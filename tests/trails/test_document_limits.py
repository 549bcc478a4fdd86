"""The document limits hold in the dashboard's preview and editor and in the staff admin: diagnostics, never a 500."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.fixtures.trails import HOSTILE_DOCUMENTS, make_trail
from trails.models import Trail

CASES = list(HOSTILE_DOCUMENTS.values())
IDS = list(HOSTILE_DOCUMENTS)


def versions(workspace) -> list[tuple[str, int]]:
    with schema_context(workspace.schema_name):
        return list(Trail.objects.values_list("title", "version"))


@pytest.mark.parametrize(("document", "code", "words"), CASES, ids=IDS)
def test_a_viewers_preview_shows_the_limit_as_a_problem(cast, client_a, workspace_a, document, code, words):
    client_a.force_login(cast.viewer)

    response = client_a.post("/dashboard/trails/preview", {"source": document}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert code in {d.code for d in response.context["assembly"].errors}
    assert words in response.content.decode()


@pytest.mark.parametrize(("document", "code", "words"), CASES, ids=IDS)
def test_an_editors_save_is_refused_with_the_limit_and_keeps_the_trail(
    cast, client_a, workspace_a, document, code, words
):
    trail = make_trail(workspace=workspace_a)
    client_a.force_login(cast.editor)

    response = client_a.post(f"/dashboard/trails/{trail.pk}/", {"source": document, "version": 1})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Not saved." in page and words in page
    assert versions(workspace_a) == [(trail.title, 1)]


@pytest.mark.parametrize(("document", "code", "words"), CASES, ids=IDS)
def test_an_editors_new_trail_is_refused_with_the_limit(cast, client_a, workspace_a, document, code, words):
    client_a.force_login(cast.editor)

    response = client_a.post("/dashboard/trails/new", {"source": document})

    assert response.status_code == 200
    assert words in response.content.decode()
    assert versions(workspace_a) == []


@pytest.mark.parametrize(("document", "code", "words"), CASES, ids=IDS)
def test_the_staff_admins_trail_form_refuses_the_limit(cast, client_a, workspace_a, document, code, words):
    trail = make_trail(workspace=workspace_a)
    client_a.force_login(cast.staff)

    response = client_a.post(
        f"/admin/trails/trail/{trail.pk}/change/",
        {"source": document, "status": "draft", "stops-TOTAL_FORMS": "0", "stops-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 200
    assert words in response.content.decode()
    assert versions(workspace_a) == [(trail.title, 1)]


def test_the_preview_points_at_the_line_of_a_nul_character(cast, client_a, workspace_a):
    client_a.force_login(cast.viewer)

    response = client_a.post("/dashboard/trails/preview", {"source": "## A\nb\nc\x00d\n"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert [(d.line, d.code) for d in response.context["assembly"].errors] == [(3, "bad-character")]
