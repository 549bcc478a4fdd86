"""Only an owner makes, demotes or removes an owner, by every route: roles, removal, invitations (made, resent,
accepted later). An admin who tries any of them to take a workspace over gets nowhere."""

from __future__ import annotations

import re

from django.core import mail

from accounts.models import Invitation, Membership, User
from tests.accounts.conftest import PASSWORD, host_client


def _client(cast, user):
    client = host_client(cast.workspace_a)
    client.force_login(user)
    return client


def _accept(cast, invitation: Invitation, user: User):
    """`user` follows the invitation's link, logged in, and accepts it."""
    client = _client(cast, user)
    path = f"/accounts/invitations/{invitation.token()}/"
    return client.get(path), client.post(path)


def _role_options(html: str, select_name: str) -> list[str]:
    selects = re.findall(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    return sorted({value for select in selects for value in re.findall(r'<option value="(\w+)"', select)})


def test_owner_is_offered_only_to_owners_on_the_team_page(verified_cast, admin_of_a):
    as_owner = _client(verified_cast, verified_cast.owner).get("/dashboard/team/").content.decode()
    as_admin = _client(verified_cast, admin_of_a).get("/dashboard/team/").content.decode()

    assert "owner" in _role_options(as_owner, "role")
    assert _role_options(as_admin, "role") == ["admin", "editor", "viewer"]
    # The admin sees the owner's role, but gets no form to change it, nor a button to remove them.
    owner = Membership.objects.get(user=verified_cast.owner, customer=verified_cast.workspace_a)
    assert f"/dashboard/team/members/{owner.pk}/" not in as_admin
    assert f"/dashboard/team/members/{owner.pk}/" in as_owner


def test_an_admin_can_not_take_a_workspace_over_with_a_second_account(verified_cast, admin_of_a):
    """The crawler's path: invite a second account of one's own as owner, accept, remove the real owner."""
    admin = _client(verified_cast, admin_of_a)
    second = User.objects.create_user("admin.alt@example.com", PASSWORD)

    response = admin.post("/dashboard/team/invitations/", {"email": second.email, "role": "owner"})

    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.filter(email=second.email).exists() and not mail.outbox
    # Had such an invitation been made anyway (by code before this rule, or by hand), it makes no owner.
    invitation = Invitation.objects.create(
        customer=verified_cast.workspace_a, email=second.email, role="owner", invited_by=admin_of_a
    )
    shown, accepted = _accept(verified_cast, invitation, second)
    assert shown.status_code == accepted.status_code == 404
    assert not Membership.objects.filter(user=second).exists()
    # And the real owner stays.
    owner = Membership.objects.get(user=verified_cast.owner, customer=verified_cast.workspace_a)
    admin.post(f"/dashboard/team/members/{owner.pk}/remove/")
    admin.post(f"/dashboard/team/members/{owner.pk}/role/", {"role": "viewer"})
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_an_owner_invites_an_owner_who_joins_as_one(verified_cast):
    owner = _client(verified_cast, verified_cast.owner)
    owner.post("/dashboard/team/invitations/", {"email": "partner@example.com", "role": "owner"})
    partner = User.objects.create_user("partner@example.com", PASSWORD)

    _, accepted = _accept(verified_cast, Invitation.objects.get(email="partner@example.com"), partner)

    assert accepted.status_code == 302
    assert Membership.objects.get(user=partner, customer=verified_cast.workspace_a).role == "owner"


def test_an_owner_invitation_makes_no_owner_once_its_sender_is_no_longer_an_owner(verified_cast, admin_of_a):
    owner_membership = Membership.objects.get(user=verified_cast.owner, customer=verified_cast.workspace_a)
    _client(verified_cast, verified_cast.owner).post(
        "/dashboard/team/invitations/", {"email": "partner@example.com", "role": "owner"}
    )
    invitation = Invitation.objects.get(email="partner@example.com")
    # The sender steps down (someone else is made owner first, as the rules require).
    Membership.objects.get(user=admin_of_a, customer=verified_cast.workspace_a).change_role("owner")
    owner_membership.change_role("admin")
    partner = User.objects.create_user("partner@example.com", PASSWORD)

    shown, accepted = _accept(verified_cast, invitation, partner)

    assert shown.status_code == accepted.status_code == 404
    assert b"may no longer give its role" in accepted.content
    assert not Membership.objects.filter(user=partner).exists()


def test_an_admin_can_not_resend_an_owner_invitation_but_an_owner_can_and_it_becomes_theirs(verified_cast, admin_of_a):
    invitation = Invitation.objects.create(
        customer=verified_cast.workspace_a, email="partner@example.com", role="owner", invited_by=admin_of_a
    )
    sent_at = invitation.sent_at

    page = _client(verified_cast, admin_of_a).get("/dashboard/team/").content.decode()
    response = _client(verified_cast, admin_of_a).post(
        f"/dashboard/team/invitations/{invitation.pk}/resend/", follow=True
    )

    assert f"/dashboard/team/invitations/{invitation.pk}/resend/" not in page
    assert b"Only an owner can send an invitation to become an owner" in response.content
    invitation.refresh_from_db()
    assert invitation.sent_at == sent_at and not mail.outbox

    _client(verified_cast, verified_cast.owner).post(f"/dashboard/team/invitations/{invitation.pk}/resend/")
    invitation.refresh_from_db()
    assert invitation.invited_by == verified_cast.owner and len(mail.outbox) == 1
    partner = User.objects.create_user("partner@example.com", PASSWORD)
    _accept(verified_cast, invitation, partner)
    assert Membership.objects.get(user=partner, customer=verified_cast.workspace_a).role == "owner"


def test_an_admin_can_not_demote_or_remove_an_owner_even_with_another_owner_around(verified_cast, admin_of_a):
    second_owner = Membership.objects.get(user=verified_cast.editor, customer=verified_cast.workspace_a)
    second_owner.change_role("owner")
    admin = _client(verified_cast, admin_of_a)

    demoted = admin.post(f"/dashboard/team/members/{second_owner.pk}/role/", {"role": "viewer"}, follow=True)
    removed = admin.post(f"/dashboard/team/members/{second_owner.pk}/remove/", follow=True)

    assert b"Only an owner can" in demoted.content and b"Only an owner can" in removed.content
    second_owner.refresh_from_db()
    assert second_owner.role == "owner"


def test_an_invitation_from_someone_who_left_the_workspace_can_not_be_used(verified_cast, admin_of_a):
    invitation = Invitation.objects.create(
        customer=verified_cast.workspace_a, email="new@example.com", role="editor", invited_by=admin_of_a
    )
    Membership.objects.get(user=admin_of_a, customer=verified_cast.workspace_a).remove()
    newcomer = User.objects.create_user("new@example.com", PASSWORD)

    _, accepted = _accept(verified_cast, invitation, newcomer)

    assert accepted.status_code == 404
    assert not Membership.objects.filter(user=newcomer).exists()


def test_no_api_route_touches_members_invitations_or_keys():
    """Roles are granted on the team page only. An API route for them must come with the tests above, for it."""
    from qrcards.api import api

    paths = api.get_openapi_schema(path_prefix="/api/v1/")["paths"]
    assert not [path for path in paths if re.search(r"member|invitation|role|owner|key|team", path)]
