"""What the trails, scans and accounts code emits, and that events are written with the change or not at all."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from accounts import webhooks
from accounts.models import Invitation, User, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import Trail


def listen(workspace, *events: str, url: str = "https://hooks.example.com/in") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(customer=workspace, url=url, events=list(events or webhooks.EVENTS))


def emitted(workspace=None) -> list[tuple[str, dict]]:
    events = WebhookEvent.objects.order_by("pk")
    if workspace is not None:
        events = events.filter(customer=workspace)
    return [(event.type, event.data) for event in events]


def test_nothing_is_written_when_no_endpoint_listens(workspace_a):
    listen(workspace_a, "member.joined")

    make_trail(workspace=workspace_a)

    assert not WebhookEvent.objects.exists()


def test_publishing_a_trail_emits_trail_published_and_saving_its_document_trail_updated(workspace_a):
    listen(workspace_a, "trail.published", "trail.updated")
    trail = make_trail(workspace=workspace_a, published=False)
    assert emitted() == []

    with schema_context(workspace_a.schema_name):
        trail.publish()
        trail.set_source(trail_markdown(title="Old Town Walk, revised"))
        trail.archive()

    [(published, p), (updated, u), (archived, a)] = emitted(workspace_a)
    assert (published, updated, archived) == ("trail.published", "trail.updated", "trail.updated")
    assert p["trail"]["id"] == trail.pk and p["trail"]["status"] == "published"
    assert u["trail"]["title"] == "Old Town Walk, revised" and u["trail"]["version"] == 2
    assert a["trail"]["status"] == "archived"


def test_a_trail_created_published_emits_trail_published(workspace_a):
    listen(workspace_a, "trail.published")

    trail = make_trail(workspace=workspace_a, published=True)

    assert emitted() == [("trail.published", trail.webhook_data())]


def test_a_stop_left_out_of_the_document_or_a_deleted_trail_emits_stop_retired_for_each(workspace_a):
    listen(workspace_a, "stop.retired")
    trail = make_trail(workspace=workspace_a)
    with schema_context(workspace_a.schema_name):
        bridge = trail.stops.get(key="bridge")
        trail.set_source(trail_markdown(stops=[("fountain", "The Fountain"), ("clock-tower", "Clock Tower")]))
        assert [data["stop"]["token"] for _, data in emitted()] == [bridge.token]
        trail.delete_softly()

    retired = [data["stop"] for _, data in emitted()]
    assert [stop["key"] for stop in retired] == ["bridge", "fountain", "clock-tower"]
    assert all(stop["trail_id"] == trail.pk and stop["retired_at"] for stop in retired)


def test_someone_joining_by_invitation_emits_member_joined(cast, workspace_a):
    listen(workspace_a, "member.joined")
    invitation = Invitation.objects.create(
        customer=workspace_a, email="new@a.example", role="editor", invited_by=cast.owner
    )
    user = User.objects.create_user("new@a.example", "x")

    invitation.accept(user)

    [(event, data)] = emitted()
    assert event == "member.joined"
    assert data["member"] | {"joined_at": None} == {
        "user_id": user.pk, "email": "new@a.example", "role": "editor", "joined_at": None,
    }  # fmt: skip


def test_an_event_of_a_change_that_rolled_back_is_never_written(workspace_a):
    listen(workspace_a, "trail.published")
    trail = make_trail(workspace=workspace_a, published=False)

    with pytest.raises(RuntimeError), schema_context(workspace_a.schema_name), transaction.atomic():
        trail.publish()
        raise RuntimeError("the request failed after publishing")

    assert emitted() == [] and not WebhookDelivery.objects.exists()
    with schema_context(workspace_a.schema_name):
        assert Trail.objects.get(pk=trail.pk).status == "draft"


def test_each_listening_endpoint_gets_its_own_delivery_and_a_disabled_one_none(workspace_a):
    first = listen(workspace_a, "trail.updated")
    second = listen(workspace_a, "trail.updated", url="https://other.example.com/in")
    gone = listen(workspace_a, "trail.updated", url="https://gone.example.com/in")
    gone.disable("test")
    listen(workspace_a, "scan.created", url="https://scans.example.com/in")

    webhooks.emit("trail.updated", {"trail": {"id": 1}}, customer=workspace_a)

    assert sorted(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [first.pk, second.pk]


def test_a_workspaces_changes_are_never_queued_for_another_workspaces_endpoints(workspace_a, workspace_b):
    listen(workspace_b)

    trail = make_trail(workspace=workspace_a)
    with schema_context(workspace_a.schema_name):
        trail.set_source(trail_markdown(title="Changed"))
    webhooks.emit("member.joined", {"member": {}}, customer=workspace_a)

    assert not WebhookDelivery.objects.exists()


def test_an_unknown_event_is_a_programming_error(workspace_a):
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhooks.emit("trail.deleted", {}, customer=workspace_a)
