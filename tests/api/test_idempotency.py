"""Idempotency-Key on POSTs: a retry gets the first answer and creates nothing; the key can't be reused for
another request. (Two requests at once with one key: tests/api/test_live_server.py.)"""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import IdempotentRequest
from scans.worker import JOBS, run_due_jobs
from tests.api.conftest import api_client
from tests.fixtures.trails import trail_markdown
from trails.models import Trail

NEW_TRAIL = json.dumps({"source": trail_markdown(title="Harbour Walk"), "status": "published"})


def _create(client, key: str, body: str = NEW_TRAIL):
    return client.post("/api/v1/trails", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _harbour_walks() -> int:
    with schema_context("alpha"):
        return Trail.objects.filter(title="Harbour Walk").count()


def test_a_retry_with_the_same_key_gets_the_first_answer_and_creates_nothing(writer):
    first = _create(writer, "order-1")
    retry = _create(writer, "order-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.content == first.content
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert _harbour_walks() == 1


def test_the_same_key_with_another_body_is_a_409_and_creates_nothing(writer):
    _create(writer, "order-1")

    other = json.dumps({"source": trail_markdown(title="Harbour Walk"), "status": "draft"})
    response = _create(writer, "order-1", other)

    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_reused"
    assert _harbour_walks() == 1


def test_the_same_key_on_another_operation_is_a_409(writer):
    _create(writer, "order-1")

    response = writer.post(
        "/api/v1/trails/preview", NEW_TRAIL, content_type="application/json", HTTP_IDEMPOTENCY_KEY="order-1"
    )

    assert response.status_code == 409


def test_keys_are_kept_per_api_key_so_two_integrations_cannot_collide(workspace_a, keys):
    from accounts.models import ApiKey

    _, other_secret = ApiKey.objects.create_key(customer=workspace_a, name="Other", scope=ApiKey.Scope.READ_WRITE)

    assert _create(api_client(workspace_a, keys.read_write), "order-1").status_code == 201
    second = _create(api_client(workspace_a, other_secret), "order-1")

    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert _harbour_walks() == 2


def test_a_refused_request_is_not_kept_so_the_corrected_one_can_use_the_key(writer):
    invalid = _create(writer, "order-1", json.dumps({"source": "## A {#a}\n\n## B {#a}\n"}))
    assert invalid.status_code == 422

    assert _create(writer, "order-1").status_code == 201
    assert _harbour_walks() == 1


def test_a_key_older_than_a_day_is_forgotten(writer):
    _create(writer, "order-1")
    IdempotentRequest.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))

    again = _create(writer, "order-1")

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert _harbour_walks() == 2


def test_the_workers_daily_job_purges_keys_older_than_a_day(writer):
    _create(writer, "old")
    IdempotentRequest.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    _create(writer, "new", json.dumps({"source": trail_markdown(title="Docks")}))
    (job,) = [job for job in JOBS if job.name == "purge_idempotency_keys"]

    assert run_due_jobs((job,), now=0) == ["purge_idempotency_keys"]

    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize("key", ["", "with space", "é", "x" * 256])
def test_a_key_that_is_not_one_is_a_422_naming_the_header(writer, key):
    response = _create(writer, key)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _harbour_walks() == 0


def test_a_read_key_is_refused_before_its_key_is_kept(reader):
    assert _create(reader, "order-1").status_code == 403
    assert not IdempotentRequest.objects.exists()


def test_without_a_key_each_post_creates(writer):
    for _ in range(2):
        writer.post("/api/v1/trails", NEW_TRAIL, content_type="application/json")
    assert _harbour_walks() == 2


def test_a_member_of_two_workspaces_using_one_key_on_both_gets_each_workspaces_own_answer(cast, workspace_b):
    from django.test import Client

    from accounts.models import Membership

    Membership.objects.create(user=cast.owner, customer=workspace_b, role=Membership.Role.OWNER)
    answers = []
    for workspace in (cast.workspace_a, workspace_b):
        client = Client(HTTP_HOST=workspace.primary_host)
        client.force_login(cast.owner)
        answers.append(_create(client, "order-1"))

    assert [answer.status_code for answer in answers] == [201, 201]
    assert "Idempotent-Replayed" not in answers[1]  # B's answer is B's, never A's trail replayed
    with schema_context("bravo"):
        assert Trail.objects.filter(title="Harbour Walk").count() == 1
    assert _harbour_walks() == 1
