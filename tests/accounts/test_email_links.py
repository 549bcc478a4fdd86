"""Links in e-mails use the canonical scheme and port, never the port a request's Host header named."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Invitation

FORGED_PORT = "1337"


@pytest.fixture(params=[("https", 0), ("http", 8000)], ids=["production", "development"])
def canonical(request, settings) -> str:
    """Production (https, no port) and development (`make run`'s port): the origin links must start with."""
    scheme, port = request.param
    settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = scheme
    settings.QRCARDS_PORT = port
    return scheme, f":{port}" if port else ""


def _links(message) -> list[str]:
    return re.findall(r"https?://[^\s]+", message.body)


def _assert_canonical(message, host: str, canonical) -> None:
    scheme, port = canonical
    links = _links(message)
    assert links, message.body
    assert FORGED_PORT not in message.body
    for link in links:
        assert re.match(rf"{scheme}://{re.escape(host + port)}(/|\.?$)", link), link


def _forged(host: str) -> Client:
    return Client(HTTP_HOST=f"{host}:{FORGED_PORT}")


def test_a_password_reset_link_ignores_the_port_in_the_host_header(verified_cast, canonical):
    _forged("alpha.qrcards.localhost").post("/accounts/password/reset/", {"email": verified_cast.viewer.email})

    _assert_canonical(mail.outbox[-1], "alpha.qrcards.localhost", canonical)
    assert "/accounts/password/reset/key/" in mail.outbox[-1].body


def test_a_password_reset_for_an_unknown_address_links_to_sign_up_on_the_canonical_port(verified_cast, canonical):
    _forged("qrcards.localhost").post("/accounts/password/reset/", {"email": "nobody@example.com"})

    _assert_canonical(mail.outbox[-1], "qrcards.localhost", canonical)


def test_the_sign_up_confirmation_link_ignores_the_port_in_the_host_header(cast, db, canonical):
    password = "a long enough password 7"
    _forged("qrcards.localhost").post(
        "/accounts/signup/", {"email": "founder@example.com", "password1": password, "password2": password}
    )

    _assert_canonical(mail.outbox[-1], "qrcards.localhost", canonical)
    assert "/accounts/confirm-email/" in mail.outbox[-1].body


def test_an_invitation_link_ignores_the_port_in_the_host_header(verified_cast, canonical):
    owner = _forged("alpha.qrcards.localhost")
    owner.force_login(verified_cast.owner)

    owner.post("/dashboard/team/invitations/", {"email": "new@example.com", "role": "editor"})
    invitation = Invitation.objects.get(email="new@example.com")
    owner.post(f"/dashboard/team/invitations/{invitation.pk}/resend/")

    for message in mail.outbox:
        _assert_canonical(message, "alpha.qrcards.localhost", canonical)


def test_the_workspace_finders_links_ignore_the_port_in_the_host_header(verified_cast, canonical):
    _forged("qrcards.localhost").post("/login/", {"email": verified_cast.owner.email})
    _forged("qrcards.localhost").post("/login/", {"email": "nobody@example.com"})

    workspaces, none = mail.outbox[-2:]
    _assert_canonical(workspaces, "alpha.qrcards.localhost", canonical)
    _assert_canonical(none, "qrcards.localhost", canonical)


def test_a_log_in_code_mail_names_no_forged_port(verified_cast, canonical):
    _forged("alpha.qrcards.localhost").post("/accounts/login/code/", {"email": verified_cast.viewer.email})

    assert "sign-in code" in mail.outbox[-1].body
    _assert_canonical(mail.outbox[-1], "alpha.qrcards.localhost", canonical)
