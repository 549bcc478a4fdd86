"""The document limits hold in the API: a read key's preview gets diagnostics, a write key's create a 422."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from tests.fixtures.trails import HOSTILE_DOCUMENTS
from trails.models import Trail

CASES = list(HOSTILE_DOCUMENTS.values())
IDS = list(HOSTILE_DOCUMENTS)


@pytest.mark.parametrize(("document", "code", "words"), CASES, ids=IDS)
def test_a_read_keys_preview_answers_the_limit_as_a_diagnostic(reader, document, code, words):
    response = reader.post("/api/v1/trails/preview", json.dumps({"source": document}), "application/json")

    assert response.status_code == 200
    assembly = response.json()
    assert assembly["ok"] is False
    assert [d for d in assembly["diagnostics"] if d["code"] == code and words in d["message"]]


@pytest.mark.parametrize(("document", "code", "words"), CASES, ids=IDS)
def test_a_write_keys_create_is_a_422_naming_the_limit_and_saves_nothing(writer, workspace_a, document, code, words):
    response = writer.post("/api/v1/trails", json.dumps({"source": document}), "application/json")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_document"
    assert code in {d["code"] for d in error["details"]["diagnostics"]}
    with schema_context(workspace_a.schema_name):
        assert not Trail.objects.exists()
