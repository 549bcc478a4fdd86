"""Schemathesis against the live OpenAPI schema: generated requests, valid and not, never a 5xx or an off-schema answer.

Bounded (25 examples an operation, derandomized) so it runs in seconds within `make test`. The stateful test
follows the schema's OpenAPI links (create a trail, then get, change, replace, list the stops of and delete
the one it made) and checks, besides the answers' shapes, that what was created can be fetched and what was
deleted can't.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import InferenceAlgorithm
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from tests.fixtures.media import image_upload
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_translation, trail_markdown
from trails.media import add_asset

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
def existing_ids(trail_a, workspace_a, media_root) -> dict[str, int | str]:
    """A real trail, stop (with a scan), translation and picture, so valid requests reach past the 404 to the code
    that answers them."""
    with schema_context(workspace_a.schema_name):
        stop = trail_a.live_stops().first()
        picture = add_asset(name="heron.jpg", upload=image_upload(width=200, height=150))
    make_scan(workspace=workspace_a, stop=stop, at=trail_a.created_at)
    make_translation(workspace=workspace_a, trail=trail_a, language="fr", source="## La fontaine {#fountain}\nEau.\n")
    return {
        "trail_id": trail_a.pk,
        "stop_id": stop.pk,
        "token": stop.token.lower(),
        "language": "fr",
        "media_id": picture.pk,
    }


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


DOCUMENT_WRITES = {("POST", "/trails"), ("PUT", "/trails/{trail_id}")}


def test_linked_calls_from_a_new_trail_never_get_a_server_error_or_an_answer_off_the_schema(api_schema, api_headers):
    steps: list[tuple[str, int]] = []
    # The schema's own links (and Location headers): schemathesis would also guess links from parameter
    # names, from any trail_id anywhere, which spends the examples on 404s.
    api_schema.config.phases.stateful.inference.algorithms = [InferenceAlgorithm.LOCATION_HEADERS]

    class LinkedCalls(api_schema.as_state_machine()):
        def setup(self):
            # Each scenario starts from the same data, so hypothesis can replay and shrink one.
            cache.clear()
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": api_headers}

        def before_call(self, case):
            # Random text is almost never a valid trail (the other tests fuzz it): a real document, so
            # most scenarios get past creating one to the linked calls.
            writes_document = (case.method, case.operation.path.removeprefix("/api/v1")) in DOCUMENT_WRITES
            if writes_document and isinstance(case.body, dict) and "source" in case.body:
                case.body["source"] = trail_markdown(title=f"Linked {len(steps)}")

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            steps.append((f"{case.method} {case.operation.path.removeprefix('/api/v1')}", response.status_code))
            checks = [*CHECKS, use_after_free, ensure_resource_availability]
            case.validate_response(response, checks=checks, headers=api_headers, transport_kwargs=kwargs)

    run_state_machine_as_test(
        LinkedCalls,
        settings=settings(
            max_examples=30,
            stateful_step_count=5,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The links were followed: trails were made, then each linked operation reached one that exists.
    reached = {step for step, status in steps if status < 300}
    print(f"linked calls: {len(steps)}: {Counter(steps)}")
    assert {
        "POST /trails",
        "GET /trails/{trail_id}",
        "PATCH /trails/{trail_id}",
        "DELETE /trails/{trail_id}",
    } <= reached
