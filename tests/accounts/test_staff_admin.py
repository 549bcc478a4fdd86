"""The staff admin, tried as support staff would use it: it keeps the dashboard's rules and can't break a customer."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import ApiKey, Customer, Membership, User
from accounts.workspaces import create_workspace
from scans.models import Scan
from tests.accounts.conftest import PASSWORD, host_client
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail
from trails.models import Stop, Trail


@pytest.fixture
def staff(verified_cast):
    client = host_client(None)
    client.force_login(verified_cast.staff)
    return client


def _memberships(workspace: Customer) -> list[Membership]:
    return list(Membership.objects.filter(customer=workspace).order_by("pk"))


def workspace_form(workspace: Customer, *, rows: dict[int, dict] | None = None, **changes) -> dict:
    """The admin's change form of `workspace` as a browser would post it; `rows` changes membership rows by pk."""
    workspace = Customer.objects.get(pk=workspace.pk)
    data = {
        "name": workspace.name,
        "time_zone": workspace.time_zone,
        "scan_retention_days": workspace.scan_retention_days,
        "record_country": "on",
        "record_referrer": "on",
        "api_requests_per_minute": workspace.api_requests_per_minute,
        "accent_colour": workspace.accent_colour,
        "domains-TOTAL_FORMS": "0",
        "domains-INITIAL_FORMS": "0",
        **changes,
    }
    members = _memberships(workspace)
    data |= {"memberships-TOTAL_FORMS": str(len(members)), "memberships-INITIAL_FORMS": str(len(members))}
    for i, membership in enumerate(members):
        row = {"id": membership.pk, "customer": workspace.pk, "user": membership.user_id, "role": membership.role}
        row |= (rows or {}).get(membership.pk, {})
        data |= {f"memberships-{i}-{name}": value for name, value in row.items()}
    return data


def _change(staff, workspace: Customer, **kwargs):
    return staff.post(f"/admin/accounts/customer/{workspace.pk}/change/", workspace_form(workspace, **kwargs))


# "View on site" ------------------------------------------------------------------------------------------


def test_view_on_site_gives_no_staff_member_a_draft_stops_token_and_counts_no_scan(verified_cast, workspace_a):
    trail = make_trail(workspace=workspace_a, published=False)
    with schema_context("alpha"):
        stop = trail.live_stops().first()
        stop_type = ContentType.objects.get_for_model(Stop).pk
    support = User.objects.create_user("support@qrcards.example", PASSWORD, is_staff=True)  # no permissions

    for user in (support, verified_cast.staff):
        client = host_client(workspace_a)
        client.force_login(user)
        response = client.get(f"/admin/r/{stop_type}/{stop.pk}/", follow=True)
        assert response.status_code == 404, user
        assert stop.token not in str(response.redirect_chain) and stop.token.encode() not in response.content
    superuser = host_client(workspace_a)
    superuser.force_login(verified_cast.staff)
    assert f"/admin/r/{stop_type}/".encode() not in superuser.get(f"/admin/trails/stop/{stop.pk}/change/").content
    with schema_context("alpha"):
        assert not Scan.objects.exists()


# Settings: one set of rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus", "Not a time zone we know"),
        ("api_requests_per_minute", "0", "greater than or equal to 1"),
        ("scan_retention_days", "0", "greater than or equal to 1"),
        ("scan_retention_days", "100000", "less than or equal to 3650"),
    ],
)
def test_the_admin_and_the_settings_form_refuse_settings_that_would_break_a_workspace(
    staff, verified_cast, workspace_a, field, value, message
):
    before = Customer.objects.filter(pk=workspace_a.pk).values(field).get()
    in_admin = _change(staff, workspace_a, **{field: value})
    owner = host_client(workspace_a)
    owner.force_login(verified_cast.owner)
    on_dashboard = owner.post("/dashboard/settings/", workspace_form(workspace_a, **{field: value}))

    assert in_admin.status_code == 200 and message in in_admin.content.decode()
    assert on_dashboard.status_code == 400 and message in on_dashboard.content.decode()
    assert Customer.objects.filter(pk=workspace_a.pk).values(field).get() == before


def test_the_admin_checks_the_accent_colour_as_the_dashboard_does(staff, workspace_a):
    response = _change(staff, workspace_a, accent_colour="#ffee00")

    assert "too light to read" in response.content.decode()
    assert Customer.objects.get(pk=workspace_a.pk).accent_colour == ""


def test_a_workspace_whose_stored_time_zone_is_unknown_still_answers_and_records_scans(
    verified_cast, workspace_a, caplog
):
    trail = make_trail(workspace=workspace_a)
    with schema_context("alpha"):
        token = trail.live_stops().first().token
    Customer.objects.filter(pk=workspace_a.pk).update(time_zone="Mars/Olympus")  # saved before the rule existed
    owner = host_client(workspace_a)
    owner.force_login(verified_cast.owner)
    _, key = ApiKey.objects.create_key(customer=workspace_a, name="K", scope="read")
    api = host_client(workspace_a)
    week_ago = (timezone.now() - datetime.timedelta(days=7)).date().isoformat()

    assert owner.get(f"/qr/{token}").status_code == 200
    for path in ("/dashboard/", "/dashboard/analytics/", "/dashboard/settings/"):
        assert owner.get(path).status_code == 200, path
    for path in ("/api/v1/stats", f"/api/v1/scans?start={week_ago}", "/api/v1/scans/export.csv"):
        assert api.get(path, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200, path
    with schema_context("alpha"):
        assert Scan.objects.count() == 1
    assert Customer.objects.get(pk=workspace_a.pk).zone.key == "UTC"


# Owners: the last one stays -------------------------------------------------------------------------------


def _owner_of_a(cast) -> Membership:
    return Membership.objects.get(user=cast.owner, customer=cast.workspace_a)


def test_the_admin_can_not_demote_the_only_owner_on_either_page(staff, verified_cast, workspace_a):
    owner = _owner_of_a(verified_cast)

    inline = _change(staff, workspace_a, rows={owner.pk: {"role": "viewer"}})
    alone = staff.post(f"/admin/accounts/membership/{owner.pk}/change/", {"role": "viewer"})

    assert "needs an owner" in inline.content.decode() and "needs an owner" in alone.content.decode()
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_the_admin_can_not_delete_the_last_owners_membership_by_any_of_its_routes(staff, verified_cast, workspace_a):
    owner = _owner_of_a(verified_cast)

    inline = _change(staff, workspace_a, rows={owner.pk: {"DELETE": "on"}})
    page = staff.get(f"/admin/accounts/membership/{owner.pk}/delete/")
    staff.post(f"/admin/accounts/membership/{owner.pk}/delete/", {"post": "yes"})
    staff.post(
        "/admin/accounts/membership/", {"action": "delete_selected", "_selected_action": [owner.pk], "post": "yes"}
    )

    assert "needs an owner" in inline.content.decode()
    assert "last owner of its workspace" in page.content.decode() and b"Yes, I" not in page.content
    assert Membership.objects.filter(pk=owner.pk, role="owner").exists()


def test_the_admin_can_not_remove_both_of_two_owners_at_once(staff, verified_cast, workspace_a):
    owner = _owner_of_a(verified_cast)
    editor = Membership.objects.get(user=verified_cast.editor, customer=workspace_a)
    editor.change_role("owner")

    response = _change(staff, workspace_a, rows={owner.pk: {"role": "admin"}, editor.pk: {"DELETE": "on"}})

    assert "needs an owner" in response.content.decode()
    assert set(Membership.objects.filter(customer=workspace_a, role="owner")) == {owner, editor}


def test_the_admin_makes_and_unmakes_owners_one_step_at_a_time_as_the_team_page_does(staff, verified_cast, workspace_a):
    owner = _owner_of_a(verified_cast)
    editor = Membership.objects.get(user=verified_cast.editor, customer=workspace_a)

    first = _change(staff, workspace_a, rows={editor.pk: {"role": "owner"}})
    second = _change(staff, workspace_a, rows={owner.pk: {"role": "viewer"}})

    assert first.status_code == second.status_code == 302
    owner.refresh_from_db()
    editor.refresh_from_db()
    assert (owner.role, editor.role) == ("viewer", "owner")


def test_a_membership_can_not_be_moved_to_someone_else_in_the_admin(staff, verified_cast, workspace_a):
    owner = _owner_of_a(verified_cast)

    response = _change(staff, workspace_a, rows={owner.pk: {"user": verified_cast.member_of_b.pk}})

    assert "can&#x27;t be moved" in response.content.decode()
    assert Membership.objects.get(pk=owner.pk).user == verified_cast.owner


def test_the_admin_can_not_delete_a_person_who_is_a_workspaces_last_owner(staff, verified_cast):
    owner = verified_cast.owner

    page = staff.get(f"/admin/accounts/user/{owner.pk}/delete/")
    staff.post(f"/admin/accounts/user/{owner.pk}/delete/", {"post": "yes"})
    staff.post("/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [owner.pk], "post": "yes"})

    assert "last owner of its workspace" in page.content.decode()
    assert User.objects.filter(pk=owner.pk).exists()
    # Someone who owns nothing alone can go.
    staff.post(f"/admin/accounts/user/{verified_cast.viewer.pk}/delete/", {"post": "yes"})
    assert not User.objects.filter(pk=verified_cast.viewer.pk).exists()


# Staff powers and keys ------------------------------------------------------------------------------------


def test_staff_allowed_to_edit_people_can_not_make_anyone_staff_or_superuser(verified_cast):
    support = User.objects.create_user("support@qrcards.example", PASSWORD, is_staff=True)
    support.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = host_client(None)
    client.force_login(support)
    viewer = verified_cast.viewer

    response = client.post(
        f"/admin/accounts/user/{viewer.pk}/change/",
        {
            "email": viewer.email,
            "first_name": "Vera",
            "last_name": "",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.first_name == "Vera" and not viewer.is_staff and not viewer.is_superuser


def test_a_revoked_api_key_stays_revoked_in_the_admin(staff, workspace_a):
    key, secret = ApiKey.objects.create_key(customer=workspace_a, name="Leaked", scope="read")
    key.revoke()

    staff.post(f"/admin/accounts/apikey/{key.pk}/change/", {"revoked_at_0": "", "revoked_at_1": ""})

    assert ApiKey.objects.authenticate(secret, customer=workspace_a) is None


# Finding and deleting workspaces --------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["viewer@a.example", "alpha.qrcards.localhost", "alpha"])
def test_workspaces_are_found_by_a_members_address_a_domain_or_the_slug(staff, query):
    listing = staff.get("/admin/accounts/customer/", {"q": query}).content.decode()

    assert "Workspace A" in listing and "Workspace B" not in listing


def test_deleting_a_workspace_in_the_admin_says_what_goes_and_needs_its_slug_typed(staff, verified_cast):
    doomed = create_workspace(name="Doomed", slug="doomed", owner=verified_cast.owner)
    trail = make_trail(workspace=doomed)
    with schema_context("doomed"):
        stop = trail.live_stops().first()
    for _ in range(2):
        make_scan(workspace=doomed, stop=stop, at=timezone.now())
    with connection.cursor() as cursor:
        # Made and dropped in one test transaction: PostgreSQL won't drop tables with foreign-key checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    path = f"/admin/accounts/customer/{doomed.pk}/delete/"

    page = staff.get(path).content.decode()
    unconfirmed = staff.post(path, {"post": "yes"})
    mistyped = staff.post(path, {"post": "yes", "confirm": "Doomed"})

    assert "<li>1 trails</li>" in page and "<li>3 stops</li>" in page and "<li>2 scans</li>" in page
    assert unconfirmed.status_code == mistyped.status_code == 200
    assert "nothing was deleted" in mistyped.content.decode()
    assert Customer.objects.filter(pk=doomed.pk).exists()

    assert staff.post(path, {"post": "yes", "confirm": "doomed"}).status_code == 302
    assert not Customer.objects.filter(pk=doomed.pk).exists()


# Trails in the workspace admin ----------------------------------------------------------------------------


def test_deleted_trails_show_as_deleted_can_be_filtered_and_can_not_be_edited(verified_cast, workspace_a):
    kept = make_trail(workspace=workspace_a)
    gone = make_trail(workspace=workspace_a, source=kept.source.replace("Old Town Walk", "Harbour Walk"))
    with schema_context("alpha"):
        Trail.objects.get(pk=gone.pk).delete_softly()
    client = host_client(workspace_a)
    client.force_login(verified_cast.staff)

    listing = client.get("/admin/trails/trail/").content.decode()
    deleted_only = client.get("/admin/trails/trail/", {"deleted": "yes"}).content.decode()
    live_only = client.get("/admin/trails/trail/", {"deleted": "no"}).content.decode()
    edit = client.post(
        f"/admin/trails/trail/{gone.pk}/change/",
        {"source": gone.source, "status": "published", "stops-TOTAL_FORMS": "0", "stops-INITIAL_FORMS": "0"},
    )

    assert "Deleted (published)" in listing
    assert "Harbour Walk" in deleted_only and "Old Town Walk" not in deleted_only
    assert "Old Town Walk" in live_only and "Harbour Walk" not in live_only
    # Saving its document again would bring its retired stops (and their cards) back to life.
    assert edit.status_code == 403
    with schema_context("alpha"):
        assert not Stop.objects.filter(trail_id=gone.pk, retired_at__isnull=True).exists()
