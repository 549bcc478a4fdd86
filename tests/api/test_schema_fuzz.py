"""Schemathesis against the live OpenAPI schema: generated requests, valid and not, never a 5xx or an off-schema answer.

Bounded (25 examples an operation, derandomized) so it runs in seconds within `make test`.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_translation

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, run inside the test's transaction.

    Django closes "old" connections when a request starts and ends, which would end the
    test's transaction; its test client turns that off the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_headers(workspace_a, keys) -> dict[str, str]:
    return {"Host": workspace_a.primary_host, "Authorization": f"Bearer {keys.read_write}"}


@pytest.fixture
def existing_ids(trail_a, workspace_a) -> dict[str, int]:
    """A real trail, stop (with a scan) and translation, so valid requests reach past the 404 to the code that answers them."""
    with schema_context(workspace_a.schema_name):
        stop = trail_a.live_stops().first()
    make_scan(workspace=workspace_a, stop=stop, at=trail_a.created_at)
    make_translation(workspace=workspace_a, trail=trail_a, language="fr", source="## La fontaine {#fountain}\nEau.\n")
    return {"trail_id": trail_a.pk, "stop_id": stop.pk, "language": "fr"}


@pytest.fixture
def api_schema(wsgi_app, api_headers):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app, headers={"Host": api_headers["Host"]})


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation; the schema is built from code, so no database is needed."""
    from qrcards.api import api

    paths = api.get_openapi_schema(path_prefix="/api/v1/")["paths"]
    return [(method.upper(), path) for path, methods in paths.items() for method in methods]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), _operations(), ids=[f"{m} {p}" for m, p in _operations()])
def test_no_generated_request_gets_a_server_error_or_an_answer_off_the_schema(
    api_schema, api_headers, existing_ids, method, path, mode
):
    operation = api_schema[path][method]
    # Valid requests name the real trail and stop; invalid ones are free to name anything.
    ids = {name: value for name, value in existing_ids.items() if f"{{{name}}}" in path}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids if mode.is_positive else None)

    @given(case=strategy)
    @settings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case):
        case.call_and_validate(headers=api_headers, checks=CHECKS)

    check()
