from __future__ import annotations

from django_tenants.utils import schema_context

from scans.models import Scan
from tests.fixtures.trails import make_trail, trail_markdown
from trails.models import Trail


def test_staff_save_a_trail_through_the_workspace_admin_and_its_stops_keep_their_tokens(cast, client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context("alpha"):
        before = {s.key: s.token for s in trail.stops.all()}
    client_a.force_login(cast.staff)

    response = client_a.post(
        f"/admin/trails/trail/{trail.pk}/change/",
        {
            "source": trail_markdown(title="Renamed", stops=[("bridge", "The Bridge"), ("fountain", "The Fountain")]),
            "status": "published",
            "stops-TOTAL_FORMS": "0",
            "stops-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    with schema_context("alpha"):
        trail = Trail.objects.get(pk=trail.pk)
        assert trail.title == "Renamed" and trail.version == 2
        assert {s.key: s.token for s in trail.live_stops()} == {k: before[k] for k in ("bridge", "fountain")}


def test_staff_change_only_a_trails_status_through_the_workspace_admin_without_a_new_version(
    cast, client_a, workspace_a
):
    trail = make_trail(workspace=workspace_a)
    client_a.force_login(cast.staff)

    response = client_a.post(
        f"/admin/trails/trail/{trail.pk}/change/",
        {"source": trail.source, "status": "archived", "stops-TOTAL_FORMS": "0", "stops-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 302
    with schema_context("alpha"):
        trail = Trail.objects.get(pk=trail.pk)
        assert trail.status == "archived" and trail.version == 1


def test_the_workspace_admin_refuses_a_document_with_errors_and_says_where(cast, client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    client_a.force_login(cast.staff)

    response = client_a.post(
        f"/admin/trails/trail/{trail.pk}/change/",
        {"source": "No stops at all.", "status": "draft", "stops-TOTAL_FORMS": "0", "stops-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 200
    assert "The trail has no stops yet" in response.content.decode()
    with schema_context("alpha"):
        assert Trail.objects.get(pk=trail.pk).version == 1


def test_scans_are_read_only_in_the_workspace_admin(cast, client_a, workspace_a):
    trail = make_trail(workspace=workspace_a)
    with schema_context("alpha"):
        stop = trail.live_stops().first()
    client_a.get(f"/qr/{stop.token}")
    client_a.force_login(cast.staff)
    with schema_context("alpha"):
        scan = Scan.objects.get()

    assert client_a.get("/admin/scans/scan/").status_code == 200
    assert client_a.get("/admin/scans/scan/add/").status_code == 403
    assert client_a.post(f"/admin/scans/scan/{scan.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_workspace_owner_who_is_not_staff_cant_enter_the_admin(cast, client_a, workspace_a):
    client_a.force_login(cast.owner)

    response = client_a.get("/admin/trails/trail/")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_public_admin_lists_workspaces_with_member_counts(cast, public_client):
    public_client.force_login(cast.staff)

    page = public_client.get("/admin/accounts/customer/").content.decode()

    assert "Workspace A" in page and "Workspace B" in page
