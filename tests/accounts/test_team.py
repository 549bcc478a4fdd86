"""The team page: invitations (accept, expire, cancel, resend), roles, removal, and the last-owner rule."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Invitation, Membership, User
from tests.accounts.conftest import PASSWORD, host_client


def _owner_client(cast):
    client = host_client(cast.workspace_a)
    client.force_login(cast.owner)
    return client


def _invite(cast, email: str = "new@example.com", role: str = "editor"):
    return _owner_client(cast).post("/dashboard/team/invitations/", {"email": email, "role": role})


def _accept_path() -> str:
    return re.search(r"http://[^/\s]+(/accounts/invitations/[^\s]+)", mail.outbox[-1].body).group(1)


def test_an_invitation_is_mailed_with_a_link_to_the_workspace_host(verified_cast):
    response = _invite(verified_cast)
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new@example.com"]
    # The port `make run` serves on (settings.QRCARDS_PORT), whatever port the request named.
    assert "http://alpha.qrcards.localhost:8000/accounts/invitations/" in mail.outbox[-1].body
    assert Invitation.objects.get(email="new@example.com").role == "editor"


def test_accepting_an_invitation_signs_up_and_joins(verified_cast):
    _invite(verified_cast)
    browser = host_client(verified_cast.workspace_a)
    response = browser.get(_accept_path())
    assert response["Location"] == "/accounts/signup/"
    response = browser.post(
        "/accounts/signup/", {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}, follow=True
    )
    assert b"Join Workspace A" in response.content  # no second e-mail to verify: the link proved the address
    response = browser.post(_accept_path(), follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/"
    membership = Membership.objects.get(user__email="new@example.com", customer=verified_cast.workspace_a)
    assert membership.role == "editor"


def test_accepting_an_invitation_logs_in_someone_who_has_an_account_and_joins(verified_cast):
    _invite(verified_cast, email=verified_cast.member_of_b.email, role="viewer")
    browser = host_client(verified_cast.workspace_a)
    path = _accept_path()
    assert browser.get(path)["Location"] == "/accounts/login/"
    response = browser.post("/accounts/login/", {"login": verified_cast.member_of_b.email, "password": PASSWORD})
    assert response["Location"] == path
    browser.post(path)
    assert Membership.objects.get(user=verified_cast.member_of_b, customer=verified_cast.workspace_a).role == "viewer"


def test_an_invitation_expires_after_seven_days(verified_cast):
    import time
    from unittest import mock

    week_ago = timezone.now() - timedelta(days=7, minutes=1)
    with mock.patch("django.core.signing.time.time", return_value=week_ago.timestamp()):
        invitation = Invitation.objects.create(
            customer=verified_cast.workspace_a,
            email="late@example.com",
            sent_at=week_ago,
            invited_by=verified_cast.owner,
        )
        path = f"/accounts/invitations/{invitation.token()}/"
    assert time.time() - week_ago.timestamp() > 7 * 86400
    response = host_client(verified_cast.workspace_a).get(path)
    assert response.status_code == 404
    assert b"can't be used" in response.content
    # A day younger, the same invitation would have been fine.
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=week_ago + timedelta(days=1))
    invitation.refresh_from_db()
    assert host_client(verified_cast.workspace_a).get(f"/accounts/invitations/{invitation.token()}/").status_code == 302


def test_a_cancelled_invitation_can_not_be_accepted(verified_cast):
    _invite(verified_cast)
    path = _accept_path()
    invitation = Invitation.objects.get(email="new@example.com")
    _owner_client(verified_cast).post(f"/dashboard/team/invitations/{invitation.pk}/cancel/")
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert host_client(verified_cast.workspace_a).get(path).status_code == 404


def test_resending_an_invitation_voids_the_earlier_link(verified_cast):
    _invite(verified_cast)
    old_path = _accept_path()
    invitation = Invitation.objects.get(email="new@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=invitation.sent_at - timedelta(days=6))
    _owner_client(verified_cast).post(f"/dashboard/team/invitations/{invitation.pk}/resend/")
    assert host_client(verified_cast.workspace_a).get(old_path).status_code == 404
    assert host_client(verified_cast.workspace_a).get(_accept_path())["Location"] == "/accounts/signup/"


def test_an_invitation_works_on_no_other_workspace_host(verified_cast):
    _invite(verified_cast)
    assert host_client(verified_cast.workspace_b).get(_accept_path()).status_code == 404


def test_an_invitation_form_keeps_what_was_typed_when_it_is_wrong(verified_cast):
    response = _invite(verified_cast, email="not-an-address")
    assert response.status_code == 400
    assert b'value="not-an-address"' in response.content
    response = _invite(verified_cast, email=verified_cast.editor.email)
    assert b"already a member" in response.content


def test_an_owner_changes_a_members_role(verified_cast):
    editor = Membership.objects.get(user=verified_cast.editor, customer=verified_cast.workspace_a)
    _owner_client(verified_cast).post(f"/dashboard/team/members/{editor.pk}/role/", {"role": "viewer"})
    editor.refresh_from_db()
    assert editor.role == "viewer"


def test_the_last_owner_can_be_neither_demoted_nor_removed(verified_cast):
    owner = Membership.objects.get(user=verified_cast.owner, customer=verified_cast.workspace_a)
    client = _owner_client(verified_cast)
    response = client.post(f"/dashboard/team/members/{owner.pk}/role/", {"role": "admin"}, follow=True)
    assert b"needs an owner" in response.content
    response = client.post(f"/dashboard/team/members/{owner.pk}/remove/", follow=True)
    assert b"needs an owner" in response.content
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_an_owner_can_step_down_once_there_is_another(verified_cast):
    editor = Membership.objects.get(user=verified_cast.editor, customer=verified_cast.workspace_a)
    owner = Membership.objects.get(user=verified_cast.owner, customer=verified_cast.workspace_a)
    client = _owner_client(verified_cast)
    client.post(f"/dashboard/team/members/{editor.pk}/role/", {"role": "owner"})
    client.post(f"/dashboard/team/members/{owner.pk}/role/", {"role": "viewer"})
    owner.refresh_from_db()
    assert owner.role == "viewer"


def test_an_admin_can_not_make_themselves_owner(verified_cast, admin_of_a):
    client = host_client(verified_cast.workspace_a)
    client.force_login(admin_of_a)
    mine = Membership.objects.get(user=admin_of_a, customer=verified_cast.workspace_a)
    client.post(f"/dashboard/team/members/{mine.pk}/role/", {"role": "owner"})
    mine.refresh_from_db()
    assert mine.role == "admin"


def test_a_removed_member_gets_nothing_more(verified_cast):
    viewer = Membership.objects.get(user=verified_cast.viewer, customer=verified_cast.workspace_a)
    _owner_client(verified_cast).post(f"/dashboard/team/members/{viewer.pk}/remove/")
    client = host_client(verified_cast.workspace_a)
    client.force_login(verified_cast.viewer)
    assert client.get("/dashboard/").status_code == 404


def test_members_of_another_workspace_can_not_be_touched_from_this_one(verified_cast):
    theirs = Membership.objects.get(user=verified_cast.member_of_b, customer=verified_cast.workspace_b)
    response = _owner_client(verified_cast).post(f"/dashboard/team/members/{theirs.pk}/remove/")
    assert response.status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("role", ["nobody", ""])
def test_an_unknown_role_is_refused(verified_cast, role):
    editor = Membership.objects.get(user=verified_cast.editor, customer=verified_cast.workspace_a)
    _owner_client(verified_cast).post(f"/dashboard/team/members/{editor.pk}/role/", {"role": role})
    editor.refresh_from_db()
    assert editor.role == "editor"
    assert User.objects.filter(pk=verified_cast.editor.pk).exists()


def test_reopening_an_accepted_invitation_says_it_was_accepted_and_offers_the_log_in(verified_cast):
    _invite(verified_cast, email=verified_cast.member_of_b.email, role="viewer")
    path = _accept_path()
    joining = host_client(verified_cast.workspace_a)
    joining.force_login(verified_cast.member_of_b)
    joining.post(path)

    page = host_client(verified_cast.workspace_a).get(path).content.decode()

    assert "This invitation was accepted" in page
    assert 'href="/accounts/login/?next=/dashboard/"' in page
    assert "expired" not in page
