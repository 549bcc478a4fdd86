"""Sign-up on the public host, the workspace form, and the log-in carried to the new workspace's host."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core import mail, signing
from django.test import Client

from accounts.models import Customer, Membership, User
from accounts.workspaces import make_handoff_token
from tests.accounts.conftest import PASSWORD, host_client

PUBLIC_HOST = "qrcards.localhost:8000"


def _link(message, path: str) -> str:
    return re.search(rf"https?://[^\s]+{path}[^\s]*", message.body).group(0)


def _signed_up_client(email: str = "founder@example.com") -> Client:
    """A browser on the public host that signed up and confirmed its address."""
    client = Client(HTTP_HOST=PUBLIC_HOST)
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    confirm = _link(mail.outbox[-1], "/accounts/confirm-email/").split(PUBLIC_HOST, 1)[1]
    response = client.post(confirm)
    assert response.status_code == 302
    return client


def test_sign_up_verifies_the_address_then_asks_for_a_workspace(cast, db):
    client = _signed_up_client()
    assert mail.outbox[0].to == ["founder@example.com"]
    response = client.get("/workspaces/", follow=True)
    assert response.redirect_chain[-1][0] == "/workspaces/new/"
    assert b"Create your workspace" in response.content


def test_the_workspace_form_says_what_is_wrong_and_keeps_what_was_typed(cast, db):
    client = _signed_up_client()
    cases = {
        "ab": "at least 3",
        "Harbour": "lower-case",
        "-harbour": "hyphens",
        "admin": "reserved",
        "alpha": "taken",
        "x" * 31: "at most 30",
    }
    for slug, says in cases.items():
        response = client.post("/workspaces/new/", {"name": "Harbour Walks", "slug": slug})
        assert response.status_code == 400, slug
        assert says in response.content.decode(), slug
        assert b'value="Harbour Walks"' in response.content
        assert f'value="{slug}"'.encode() in response.content
    assert not Customer.objects.filter(name="Harbour Walks").exists()


def test_creating_a_workspace_lands_on_its_dashboard_logged_in(cast, db):
    client = _signed_up_client()
    response = client.post("/workspaces/new/", {"name": "Harbour Walks", "slug": "harbour"})
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith("http://harbour.qrcards.localhost:8000/accounts/handoff/")

    workspace = Client(HTTP_HOST="harbour.qrcards.localhost:8000")
    response = workspace.get(url.split(":8000", 1)[1], follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert response.status_code == 200
    assert b"founder@example.com" in response.content
    assert Membership.objects.get(customer__schema_name="harbour").user.email == "founder@example.com"


# The cross-host token


def _handoff(client: Client, token: str):
    return client.get(f"/accounts/handoff/{token}/")


@pytest.fixture
def owner_token(cast, db) -> str:
    # Fresh from the database, as request.user would be: the cast's objects outlive each test's rollback.
    return make_handoff_token(user=User.objects.get(pk=cast.owner.pk), customer=cast.workspace_a)


def test_a_handoff_token_logs_in_once(cast, owner_token):
    first = host_client(cast.workspace_a)
    assert _handoff(first, owner_token)["Location"] == "/dashboard/"
    assert first.get("/dashboard/").status_code == 200

    second = host_client(cast.workspace_a)
    response = _handoff(second, owner_token)
    assert response["Location"].startswith("/accounts/login/")
    assert second.get("/dashboard/").status_code == 302


def test_a_handoff_token_expires_after_a_minute(cast, db):
    import time

    with mock.patch("django.core.signing.time.time", return_value=time.time() - 61):
        token = make_handoff_token(user=User.objects.get(pk=cast.owner.pk), customer=cast.workspace_a)
    client = host_client(cast.workspace_a)
    assert _handoff(client, token)["Location"].startswith("/accounts/login/")
    assert client.get("/dashboard/").status_code == 302


def test_a_handoff_token_works_on_no_other_workspace_host(cast, db):
    # The owner of A is made a member of B too: a token for B must still not log them in on A.
    Membership.objects.create(user=cast.owner, customer=cast.workspace_b, role="viewer")
    token = make_handoff_token(user=User.objects.get(pk=cast.owner.pk), customer=cast.workspace_b)
    client = host_client(cast.workspace_a)
    assert _handoff(client, token)["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    # ...and it still works where it was meant for.
    assert _handoff(host_client(cast.workspace_b), token)["Location"] == "/dashboard/"


def test_a_tampered_handoff_token_is_refused(cast, owner_token):
    payload = signing.loads(owner_token, salt="accounts.handoff")
    forged = signing.dumps({**payload, "u": cast.viewer.pk}, salt="not-the-salt")
    client = host_client(cast.workspace_a)
    assert _handoff(client, forged)["Location"].startswith("/accounts/login/")
    assert _handoff(client, owner_token[:-2] + "xx")["Location"].startswith("/accounts/login/")


def test_the_handoff_page_does_not_exist_on_the_public_host(cast, owner_token):
    assert host_client(None).get(f"/accounts/handoff/{owner_token}/").status_code == 404
    assert host_client(cast.workspace_a).get(f"/accounts/handoff/{owner_token}/")["Location"] == "/dashboard/"


def test_a_wrong_workspace_address_is_an_error_tied_to_its_field_that_names_every_rule(cast, db):
    client = _signed_up_client()

    page = client.post("/workspaces/new/", {"name": "Harbour Walks", "slug": "Harbour"}).content.decode()

    error = re.search(r'<ul class="errorlist" id="id_slug_error">(.*?)</ul>', page, re.S).group(1)
    for rule in ("3 to 30 characters", "lower-case letters", "digits", "hyphens", "starting and ending"):
        assert rule in error
    field = re.search(r"<input[^>]*name=\"slug\"[^>]*>", page).group(0)
    assert 'aria-invalid="true"' in field and "id_slug_error" in re.search(r'aria-describedby="([^"]*)"', field).group(
        1
    )
