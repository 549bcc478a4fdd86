"""/api/v1/webhooks: read keys list, write keys change; owners and admins only through the session; one workspace."""

from __future__ import annotations

import json

import pytest

from accounts import webhooks
from accounts.models import ApiKey, WebhookDelivery, WebhookEndpoint
from tests.api.conftest import api_client
from tests.fixtures.workspaces import host_client

NEW = {"url": "https://hooks.example.com/qrcards", "events": ["scan.created", "trail.published"], "description": "CRM"}


def post(client, path: str, data: dict | None = None, **extra):
    return client.post(path, json.dumps(data or {}), content_type="application/json", **extra)


def patch(client, path: str, data: dict):
    return client.patch(path, json.dumps(data), content_type="application/json")


@pytest.fixture
def endpoint_a(workspace_a) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(customer=workspace_a, url="https://a.example.com/in", events=["scan.created"])


def test_a_write_key_adds_an_endpoint_and_gets_its_secret_once_in_the_answer(writer):
    response = post(writer, "/api/v1/webhooks", NEW)

    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert (body["url"], body["events"], body["enabled"]) == (NEW["url"], ["scan.created", "trail.published"], True)
    listed = writer.get("/api/v1/webhooks").json()["items"]
    assert [item["id"] for item in listed] == [endpoint.pk] and "secret" not in listed[0]


def test_a_read_key_lists_but_changes_nothing_and_never_learns_a_secret(reader, endpoint_a):
    assert [item["id"] for item in reader.get("/api/v1/webhooks").json()["items"]] == [endpoint_a.pk]
    assert reader.get(f"/api/v1/webhooks/{endpoint_a.pk}/deliveries").status_code == 200
    refused = [
        post(reader, "/api/v1/webhooks", NEW),
        patch(reader, f"/api/v1/webhooks/{endpoint_a.pk}", {"url": "https://evil.example.com/"}),
        reader.delete(f"/api/v1/webhooks/{endpoint_a.pk}"),
        post(reader, f"/api/v1/webhooks/{endpoint_a.pk}/test"),
        reader.get(f"/api/v1/webhooks/{endpoint_a.pk}/secret"),
    ]
    assert [response.status_code for response in refused] == [403] * 5
    assert all(endpoint_a.secret not in response.content.decode() for response in refused)
    assert WebhookEndpoint.objects.get().url == "https://a.example.com/in"


def test_a_write_key_reads_the_secret_changes_disables_and_removes_an_endpoint(writer, endpoint_a):
    assert writer.get(f"/api/v1/webhooks/{endpoint_a.pk}/secret").json() == {"secret": endpoint_a.secret}

    changed = patch(writer, f"/api/v1/webhooks/{endpoint_a.pk}", {"events": ["member.joined"], "enabled": False})

    assert changed.status_code == 200
    assert (changed.json()["events"], changed.json()["enabled"]) == (["member.joined"], False)
    assert patch(writer, f"/api/v1/webhooks/{endpoint_a.pk}", {"enabled": True}).json()["enabled"] is True
    assert writer.delete(f"/api/v1/webhooks/{endpoint_a.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({**NEW, "url": "http://169.254.169.254/latest/meta-data"}, "not on the public internet"),
        ({**NEW, "url": "http://[::1]:8000/"}, "not on the public internet"),
        ({**NEW, "url": "gopher://hooks.example.com/"}, "URL"),
        ({**NEW, "url": "https://hooks.example.com/\x00"}, "NUL"),
        ({**NEW, "url": "https://" + "a" * 5000 + ".com/"}, "2000"),
        ({**NEW, "events": []}, "at least 1"),
        ({**NEW, "events": ["trail.deleted"]}, "trail.published"),
        ({**NEW, "secret": "whsec_mine"}, "Extra inputs"),
    ],
)
def test_an_endpoint_refused_is_a_422_saying_why(writer, data, words):
    response = post(writer, "/api/v1/webhooks", data)

    assert response.status_code == 422 and words in response.content.decode()
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_url_in_a_change_is_a_422_naming_the_url(writer, endpoint_a):
    response = patch(writer, f"/api/v1/webhooks/{endpoint_a.pk}", {"url": "http://10.0.0.1/"})

    assert response.status_code == 422
    assert [detail["loc"] for detail in response.json()["error"]["details"]] == [["body", "url"]]
    endpoint_a.refresh_from_db()
    assert endpoint_a.url == "https://a.example.com/in"


def test_the_delivery_log_test_event_and_redelivery(writer, endpoint_a):
    queued = post(writer, f"/api/v1/webhooks/{endpoint_a.pk}/test")
    assert queued.status_code == 202 and queued.json()["event_type"] == "webhook.test"
    delivery = WebhookDelivery.objects.get()

    again = post(writer, f"/api/v1/webhooks/{endpoint_a.pk}/deliveries/{delivery.pk}/redeliver")

    assert again.status_code == 202 and again.json()["event_id"] == queued.json()["event_id"]
    log = writer.get(f"/api/v1/webhooks/{endpoint_a.pk}/deliveries").json()["items"]
    assert [item["state"] for item in log] == ["pending", "pending"] and log[0]["attempt_log"] == []


def test_endpoints_of_workspace_a_are_invisible_and_unchangeable_with_bs_key(workspace_b, keys, endpoint_a):
    b = api_client(workspace_b, keys.of_b)
    delivery = webhooks.send_test_event(endpoint_a)
    base = f"/api/v1/webhooks/{endpoint_a.pk}"

    assert b.get("/api/v1/webhooks").json()["items"] == []
    answers = [
        b.get(base),
        b.get(f"{base}/secret"),
        b.get(f"{base}/deliveries"),
        patch(b, base, {"url": "https://b.example.com/"}),
        post(b, f"{base}/test"),
        post(b, f"{base}/deliveries/{delivery.pk}/redeliver"),
        b.delete(base),
    ]

    assert [answer.status_code for answer in answers] == [404] * 7
    assert all(endpoint_a.secret not in answer.content.decode() for answer in answers)
    assert WebhookEndpoint.objects.get().url == "https://a.example.com/in" and WebhookDelivery.objects.count() == 1


def test_as_keys_dont_work_on_bs_host(workspace_b, keys):
    assert api_client(workspace_b, keys.read_write).get("/api/v1/webhooks").status_code == 401


def test_through_the_session_editors_and_viewers_are_refused_and_owners_let_in(cast, workspace_a, endpoint_a):
    for user, status in ((cast.editor, 403), (cast.viewer, 403), (cast.owner, 200)):
        client = host_client(workspace_a)
        client.force_login(user)
        response = client.get("/api/v1/webhooks")
        assert response.status_code == status, user
        secret = client.get(f"/api/v1/webhooks/{endpoint_a.pk}/secret")
        assert (endpoint_a.secret in secret.content.decode()) == (status == 200)


def test_the_openapi_document_describes_the_webhook_operations(writer):
    paths = writer.get("/api/v1/openapi.json").json()["paths"]

    assert set(paths["/api/v1/webhooks"]) == {"get", "post"}
    assert set(paths["/api/v1/webhooks/{endpoint_id}"]) == {"get", "patch", "delete"}
    assert "/api/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver" in paths
    schema = writer.get("/api/v1/openapi.json").json()["components"]["schemas"]["NewWebhookEndpoint"]
    assert set(schema["properties"]["events"]["items"]["enum"]) == set(webhooks.EVENTS)


def test_a_key_revoked_gets_nothing(workspace_a, keys):
    assert api_client(workspace_a, keys.revoked).get("/api/v1/webhooks").status_code == 401
    assert ApiKey.objects.filter(revoked_at__isnull=False).exists()


# Every webhook operation against every caller ---------------------------------------------------------------

OPERATIONS = [
    ("GET", "/api/v1/webhooks", None),
    ("POST", "/api/v1/webhooks", NEW),
    ("GET", "/api/v1/webhooks/{endpoint}", None),
    ("PATCH", "/api/v1/webhooks/{endpoint}", {"description": "changed"}),
    ("DELETE", "/api/v1/webhooks/{endpoint}", None),
    ("GET", "/api/v1/webhooks/{endpoint}/secret", None),
    ("GET", "/api/v1/webhooks/{endpoint}/deliveries", None),
    ("POST", "/api/v1/webhooks/{endpoint}/test", None),
    ("POST", "/api/v1/webhooks/{endpoint}/deliveries/{delivery}/redeliver", None),
]


def test_the_table_lists_every_webhook_operation_of_the_api():
    from qrcards.api import api

    documented = {
        f"{method.upper()} {path}"
        for path, methods in api.get_openapi_schema(path_prefix="/api/v1/")["paths"].items()
        for method in methods
        if path.startswith("/api/v1/webhooks")
    }
    listed = {f"{method} {path}".replace("{endpoint}", "{endpoint_id}") for method, path, _ in OPERATIONS}
    assert {p.replace("{delivery}", "{delivery_id}") for p in listed} == documented


def _call(client, method: str, path: str, body, endpoint: WebhookEndpoint, delivery: WebhookDelivery, **extra):
    path = path.format(endpoint=endpoint.pk, delivery=delivery.pk)
    if body is None:
        return client.generic(method, path, **extra)
    return client.generic(method, path, json.dumps(body), content_type="application/json", **extra)


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_no_key_a_revoked_key_and_another_workspaces_key_or_member_get_401(
    cast, workspace_a, keys, endpoint_a, method, path, body
):
    delivery = webhooks.send_test_event(endpoint_a)
    member_of_b = host_client(workspace_a)
    member_of_b.force_login(cast.member_of_b)
    for client in (api_client(workspace_a), api_client(workspace_a, keys.revoked), api_client(workspace_a, keys.of_b),
                   member_of_b):  # fmt: skip
        response = _call(client, method, path, body, endpoint_a, delivery)
        assert response.status_code == 401 and endpoint_a.secret not in response.content.decode()
    assert WebhookEndpoint.objects.get().description == "" and WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_editors_and_viewers_logged_in_get_403_for_every_operation(cast, workspace_a, endpoint_a, method, path, body):
    delivery = webhooks.send_test_event(endpoint_a)
    for user in (cast.editor, cast.viewer):
        client = host_client(workspace_a)
        client.force_login(user)
        client.get("/dashboard/")  # a CSRF cookie, so a write is refused for the role, not the token
        token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
        response = _call(client, method, path, body, endpoint_a, delivery, HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 403 and response.json()["error"]["code"] in ("forbidden", "read_only"), user
        assert endpoint_a.secret not in response.content.decode()
    assert WebhookEndpoint.objects.get().description == "" and WebhookDelivery.objects.count() == 1
