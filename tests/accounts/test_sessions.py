"""A log-in on one host is not a log-in on another, even for a session cookie copied across by hand."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from accounts.models import Membership
from tests.accounts.conftest import PASSWORD, host_client


def _logged_in(host, email: str, path: str = "/accounts/login/"):
    """A browser on `host` (a workspace, or None for the public host) that logged in through the form."""
    client = host_client(host)
    fields = (
        {"username": email, "password": PASSWORD} if path == "/admin/login/" else {"login": email, "password": PASSWORD}
    )
    response = client.post(path, fields)
    assert response.status_code == 302, response.content[:500]
    return client


def _with_cookie_of(host, original):
    """A browser on `host` holding a copy of `original`'s session cookie."""
    copy = host_client(host)
    copy.cookies[settings.SESSION_COOKIE_NAME] = original.cookies[settings.SESSION_COOKIE_NAME].value
    return copy


def test_a_session_cookie_copied_to_another_host_is_no_log_in_there(verified_cast):
    owner = verified_cast.owner
    # A member of both workspaces: what refuses the copy is the host, not a missing membership.
    Membership.objects.create(user=owner, customer=verified_cast.workspace_b, role="owner")
    original = _logged_in(verified_cast.workspace_a, owner.email)

    for host in (verified_cast.workspace_b, None):
        copy = _with_cookie_of(host, original)
        email_page = copy.get("/accounts/email/")
        assert email_page.status_code == 302 and email_page["Location"].startswith("/accounts/login/")
        assert owner.email.encode() not in email_page.content
    copy = _with_cookie_of(verified_cast.workspace_b, original)
    assert copy.get("/dashboard/").status_code == 302
    assert copy.get("/api/v1/trails").status_code == 401

    # The session itself was left alone: on its own host it still works.
    page = original.get("/accounts/email/")
    assert page.status_code == 200 and owner.email.encode() in page.content
    assert original.get("/dashboard/").status_code == 200


def test_a_staff_session_copied_from_the_public_host_does_not_open_a_workspaces_admin(verified_cast):
    original = _logged_in(None, verified_cast.staff.email, path="/admin/login/")
    assert original.get("/admin/").status_code == 200

    for host in (verified_cast.workspace_a, verified_cast.workspace_b):
        response = _with_cookie_of(host, original).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert original.get("/admin/").status_code == 200


def test_logging_in_over_a_copied_cookie_starts_a_session_of_that_host_and_leaves_the_original_be(verified_cast):
    owner = verified_cast.owner
    Membership.objects.create(user=owner, customer=verified_cast.workspace_b, role="viewer")
    original = _logged_in(verified_cast.workspace_a, owner.email)
    copied_key = original.cookies[settings.SESSION_COOKIE_NAME].value

    copy = _with_cookie_of(verified_cast.workspace_b, original)
    copy.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    copy.post("/accounts/logout/")

    assert copy.cookies[settings.SESSION_COOKIE_NAME].value != copied_key
    assert original.get("/dashboard/").status_code == 200


def test_the_hand_over_from_the_public_host_still_logs_in_on_the_workspace_host(verified_cast):
    public = _logged_in(None, verified_cast.owner.email)

    response = public.post("/workspaces/alpha/open/")

    workspace = host_client(verified_cast.workspace_a)
    response = workspace.get(urlsplit(response["Location"]).path, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/" and response.status_code == 200
