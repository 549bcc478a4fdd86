"""Settings → Webhooks on the dashboard: owners and admins manage endpoints; nobody else sees them or their secrets."""

from __future__ import annotations

import pytest

from accounts import webhooks
from accounts.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.accounts.conftest import host_client

LIST = "/dashboard/settings/webhooks/"


def logged_in(user, workspace):
    client = host_client(workspace)
    client.force_login(user)
    return client


def endpoint_of(workspace, url: str = "https://hooks.example.com/in") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(customer=workspace, url=url, events=["trail.published"])


@pytest.fixture
def owner(verified_cast):
    return logged_in(verified_cast.owner, verified_cast.workspace_a)


def test_an_owner_adds_an_endpoint_then_reveals_its_secret(owner):
    response = owner.post(
        LIST,
        {
            "url": "https://hooks.example.com/qrcards",
            "description": "CRM",
            "events": ["trail.published", "scan.created"],
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{LIST}{endpoint.pk}/"
    assert endpoint.events == ["scan.created", "trail.published"] and endpoint.secret.startswith("whsec_")
    page = owner.get(response["Location"]).content.decode()
    assert "https://hooks.example.com/qrcards" in page and endpoint.secret not in page  # only when asked
    revealed = owner.post(f"{LIST}{endpoint.pk}/secret/")
    assert endpoint.secret in revealed.content.decode() and revealed["Cache-Control"] == "no-store"
    assert "https://hooks.example.com/qrcards" in owner.get(LIST).content.decode()


def test_an_admin_manages_endpoints_too(verified_cast, admin_of_a):
    admin = logged_in(admin_of_a, verified_cast.workspace_a)
    endpoint = endpoint_of(verified_cast.workspace_a)

    assert admin.post(f"{LIST}{endpoint.pk}/secret/").content.decode().count(endpoint.secret) == 1


def test_the_secret_fragment_is_all_htmx_gets_and_a_new_secret_replaces_the_old(owner, verified_cast):
    endpoint = endpoint_of(verified_cast.workspace_a)
    old = endpoint.secret

    response = owner.post(f"{LIST}{endpoint.pk}/secret/", {"rotate": "1"}, HTTP_HX_REQUEST="true")

    endpoint.refresh_from_db()
    body = response.content.decode()
    assert endpoint.secret != old and endpoint.secret in body and old not in body
    assert body.lstrip().startswith('<div id="webhook-secret">')


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"url": "ftp://hooks.example.com/in", "events": ["scan.created"]}, "Use an http:// or https:// URL."),
        ({"url": "http://10.0.0.8/in", "events": ["scan.created"]}, "not on the public internet"),
        ({"url": "http://localhost:8000/in", "events": ["scan.created"]}, "not on the public internet"),
        ({"url": "http://2130706433/in", "events": ["scan.created"]}, "not on the public internet"),
        ({"url": "https://user:pw@hooks.example.com/in", "events": ["scan.created"]}, "user name and password"),
        ({"url": "https://hooks.example.com/" + "a" * 3000, "events": ["scan.created"]}, "at most 2000 characters"),
        ({"url": "https://hooks.example.com/in"}, "Choose at least one event."),
        ({"url": "https://hooks.example.com/in", "events": ["trail.deleted"]}, "not one of the available choices"),
    ],
)
def test_a_refused_endpoint_keeps_what_was_typed_and_says_what_is_wrong(owner, data, field_error):
    response = owner.post(LIST, {"description": "Our CRM", **data})

    page = response.content.decode()
    assert response.status_code == 400 and field_error in page
    assert 'value="Our CRM"' in page and not WebhookEndpoint.objects.exists()
    if len(data["url"]) < 100:
        assert f'value="{data["url"]}"' in page


def test_in_production_only_https_urls_are_taken(owner, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False

    response = owner.post(LIST, {"url": "http://hooks.example.com/in", "events": ["scan.created"]})

    assert response.status_code == 400 and "Use an https:// URL." in response.content.decode()


def test_a_workspace_has_at_most_twenty_endpoints(owner, verified_cast):
    for n in range(WebhookEndpoint.MAX_PER_WORKSPACE):
        endpoint_of(verified_cast.workspace_a, url=f"https://hooks.example.com/{n}")

    response = owner.post(LIST, {"url": "https://hooks.example.com/more", "events": ["scan.created"]})

    assert response.status_code == 400 and "at most 20 endpoints" in response.content.decode()


def test_an_owner_changes_an_endpoint_and_a_bad_url_changes_nothing(owner, verified_cast):
    endpoint = endpoint_of(verified_cast.workspace_a)

    refused = owner.post(f"{LIST}{endpoint.pk}/", {"url": "http://192.168.1.1/", "events": ["member.joined"]})
    saved = owner.post(f"{LIST}{endpoint.pk}/", {"url": "https://new.example.com/in", "events": ["member.joined"]})

    assert refused.status_code == 400 and saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == ("https://new.example.com/in", ["member.joined"])


def test_the_delivery_log_shows_each_attempt_and_htmx_refreshes_only_the_log(owner, verified_cast):
    endpoint = endpoint_of(verified_cast.workspace_a)
    delivery = webhooks.send_test_event(endpoint)
    WebhookAttempt.objects.create(delivery=delivery, status_code=500, duration_ms=231, response_excerpt="oops <b>")

    page = owner.get(f"{LIST}{endpoint.pk}/").content.decode()
    fragment = owner.get(f"{LIST}{endpoint.pk}/", HTTP_HX_REQUEST="true").content.decode()

    for html in (page, fragment):
        assert "webhook.test" in html and "HTTP 500" in html and "231 ms" in html and "oops &lt;b&gt;" in html
    assert "<h1>" in page and "<h1>" not in fragment


def test_send_test_event_and_redeliver_queue_deliveries_for_the_worker(owner, verified_cast):
    endpoint = endpoint_of(verified_cast.workspace_a)

    owner.post(f"{LIST}{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get()
    owner.post(f"{LIST}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")

    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert delivery.event.type == "webhook.test" and again.event_id == delivery.event_id
    assert {delivery.state, again.state} == {"pending"}  # the worker sends them, never the request


def test_a_disabled_endpoint_is_enabled_again_by_its_owner(owner, verified_cast):
    endpoint = endpoint_of(verified_cast.workspace_a)
    endpoint.disable("Every delivery failed since yesterday.")
    assert "Every delivery failed since yesterday." in owner.get(f"{LIST}{endpoint.pk}/").content.decode()

    owner.post(f"{LIST}{endpoint.pk}/enable/")

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_the_settings_page_leads_to_webhooks(owner):
    assert f'href="{LIST}"' in owner.get("/dashboard/settings/").content.decode()


def test_editors_and_viewers_neither_see_endpoints_nor_their_secrets(verified_cast):
    cast = verified_cast
    endpoint = endpoint_of(cast.workspace_a)
    for user in (cast.editor, cast.viewer):
        client = logged_in(user, cast.workspace_a)
        answers = [
            client.get(LIST),
            client.get(f"{LIST}{endpoint.pk}/"),
            client.post(f"{LIST}{endpoint.pk}/secret/"),
            client.post(f"{LIST}{endpoint.pk}/delete/"),
            client.post(LIST, {"url": "https://evil.example.com/", "events": ["scan.created"]}),
        ]
        assert [answer.status_code for answer in answers] == [403] * 5
        assert not any(endpoint.secret in answer.content.decode() for answer in answers)
    assert list(WebhookEndpoint.objects.values_list("url", flat=True)) == [endpoint.url]


def test_an_endpoint_of_workspace_a_is_invisible_and_unchangeable_from_bs_host(verified_cast):
    cast = verified_cast
    endpoint = endpoint_of(cast.workspace_a, url="https://a-only.example.com/in")
    delivery = webhooks.send_test_event(endpoint)
    b = logged_in(cast.member_of_b, cast.workspace_b)  # an owner, of B

    assert "a-only.example.com" not in b.get(LIST).content.decode()
    answers = [
        b.get(f"{LIST}{endpoint.pk}/"),
        b.post(f"{LIST}{endpoint.pk}/", {"url": "https://b.example.com/", "events": ["scan.created"]}),
        b.post(f"{LIST}{endpoint.pk}/secret/", {"rotate": "1"}),
        b.post(f"{LIST}{endpoint.pk}/test/"),
        b.post(f"{LIST}{endpoint.pk}/enable/"),
        b.post(f"{LIST}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/"),
        b.post(f"{LIST}{endpoint.pk}/delete/"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 7
    assert not any(endpoint.secret in answer.content.decode() for answer in answers)
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (stored.url, stored.secret) == (endpoint.url, endpoint.secret)
    assert WebhookDelivery.objects.count() == 1


def test_a_delivery_of_another_endpoint_is_not_redelivered_through_this_one(owner, verified_cast):
    mine = endpoint_of(verified_cast.workspace_a)
    theirs = endpoint_of(verified_cast.workspace_b)
    delivery = webhooks.send_test_event(theirs)

    assert owner.post(f"{LIST}{mine.pk}/deliveries/{delivery.pk}/redeliver/").status_code == 404
