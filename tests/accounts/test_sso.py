"""Single sign-on against real OpenID Connect providers on loopback: the whole redirect, the code exchange,
the ID token's checks, linking, who joins and at which role, and every refusal (accounts/sso.py)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import Membership, SingleSignOn, User, WebhookEndpoint, WebhookEvent
from tests.accounts.conftest import PASSWORD, host_client
from tests.fixtures.oidc import callback_path, oidc_providers

__all__ = ["oidc_providers"]


@pytest.fixture(autouse=True)
def _http_issuers(settings):
    settings.SSO_ALLOW_LOCAL_ISSUERS = True


@pytest.fixture
def provider_a(oidc_providers):
    provider = oidc_providers[0]
    provider.publish_foreign_key = False
    return provider


@pytest.fixture
def provider_b(oidc_providers):
    return oidc_providers[1]


@pytest.fixture
def sso_a(verified_cast, provider_a) -> SingleSignOn:
    return SingleSignOn.objects.create(
        customer=verified_cast.workspace_a,
        name="Alpha staff",
        issuer_url=provider_a.issuer,
        client_id="qrcards-alpha",
        client_secret="alpha-secret-0123456789",
        allowed_domains="a.example museum.example",
        join_role=Membership.Role.EDITOR,
    )


@pytest.fixture
def sso_b(verified_cast, provider_b) -> SingleSignOn:
    return SingleSignOn.objects.create(
        customer=verified_cast.workspace_b,
        name="Bravo staff",
        issuer_url=provider_b.issuer,
        client_id="qrcards-bravo",
        client_secret="bravo-secret-0123456789",
        allowed_domains="b.example",
    )


def start(client, sso: SingleSignOn):
    """Press the provider's button on the log-in page: a POST that sends the browser to the provider."""
    return client.post(f"/accounts/oidc/{sso.provider_id}/login/")


def sso_log_in(client, sso: SingleSignOn, provider, *, sub: str, **claims):
    """The whole round trip: our redirect, the provider's log-in form, its redirect back, our code exchange."""
    provider.set_user(sub, **claims)
    response = start(client, sso)
    assert response.status_code == 302
    back = provider.authorize(response["Location"], sub=sub)
    assert back.startswith(f"http://{sso.customer.primary_host}/accounts/oidc/{sso.provider_id}/login/callback/?")
    return client.get(callback_path(back))


def logged_in_as(client) -> User | None:
    response = client.get("/dashboard/")
    return response.wsgi_request.user if response.status_code == 200 else None


# The round trip, and who joins


def test_a_new_person_at_the_workspace_domain_joins_at_the_chosen_role(sso_a, provider_a):
    client = host_client(sso_a.customer)
    response = sso_log_in(
        client, sso_a, provider_a, sub="u-new", email="new.person@museum.example", email_verified=True
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user = logged_in_as(client)
    assert user is not None and user.email == "new.person@museum.example"
    assert Membership.objects.get(user=user, customer=sso_a.customer).role == "editor"
    assert SocialAccount.objects.get(user=user).provider == sso_a.provider_id
    assert not user.has_usable_password()


def test_someone_joining_through_the_workspace_provider_is_announced_to_its_webhooks(sso_a, provider_a):
    WebhookEndpoint.objects.create(
        customer=sso_a.customer, url="https://hooks.example.com/in", events=["member.joined"]
    )
    client = host_client(sso_a.customer)

    sso_log_in(client, sso_a, provider_a, sub="u-hooked", email="hooked@museum.example", email_verified=True)

    [event] = WebhookEvent.objects.filter(customer=sso_a.customer, type="member.joined")
    assert event.data["member"]["email"] == "hooked@museum.example"
    assert event.data["member"]["role"] == "editor"


def test_an_existing_member_is_linked_by_a_verified_address_and_keeps_their_role(sso_a, provider_a, verified_cast):
    viewer = verified_cast.viewer
    client = host_client(sso_a.customer)
    sso_log_in(client, sso_a, provider_a, sub="u-viewer", email=viewer.email, email_verified=True)
    assert logged_in_as(client) == viewer
    assert SocialAccount.objects.get(provider=sso_a.provider_id, uid="u-viewer").user == viewer
    # The join role (editor) is for people who join, never a promotion for members.
    assert Membership.objects.get(user=viewer, customer=sso_a.customer).role == "viewer"
    # The next time, the provider's `sub` finds them, whatever address it sends.
    again = host_client(sso_a.customer)
    sso_log_in(again, sso_a, provider_a, sub="u-viewer", email="renamed@a.example", email_verified=False)
    assert logged_in_as(again) == viewer


@pytest.mark.parametrize("verified", [False, "false", "true", 1, None])
def test_an_address_the_provider_has_not_verified_links_nobody(sso_a, provider_a, verified_cast, verified):
    """Otherwise whoever can set an address at the provider (often anyone, for their own account) takes the account."""
    viewer = verified_cast.viewer
    claims = {"email": viewer.email} | ({} if verified is None else {"email_verified": verified})
    client = host_client(sso_a.customer)
    response = sso_log_in(client, sso_a, provider_a, sub="u-attacker", **claims)
    assert response.status_code == 403 and b"did not confirm your e-mail address" in response.content
    assert logged_in_as(client) is None
    assert not SocialAccount.objects.filter(uid="u-attacker").exists()
    viewer.refresh_from_db()
    assert viewer.check_password(PASSWORD)


def test_a_new_person_at_another_domain_is_refused(sso_a, provider_a):
    client = host_client(sso_a.customer)
    response = sso_log_in(
        client, sso_a, provider_a, sub="u-out", email="someone@elsewhere.example", email_verified=True
    )
    assert response.status_code == 403 and b"not one of the domains" in response.content
    assert logged_in_as(client) is None
    assert not User.objects.filter(email="someone@elsewhere.example").exists()


def test_without_domains_nobody_joins_but_members_log_in(sso_a, provider_a, verified_cast):
    sso_a.allowed_domains = ""
    sso_a.save()
    client = host_client(sso_a.customer)
    response = sso_log_in(client, sso_a, provider_a, sub="u-new2", email="new@museum.example", email_verified=True)
    assert response.status_code == 403 and logged_in_as(client) is None
    assert not User.objects.filter(email="new@museum.example").exists()
    member = host_client(sso_a.customer)
    sso_log_in(member, sso_a, provider_a, sub="u-editor", email=verified_cast.editor.email, email_verified=True)
    assert logged_in_as(member) == verified_cast.editor


def test_someone_invited_from_another_domain_joins_through_the_invitation_at_its_role(sso_a, provider_a, verified_cast):
    from accounts.models import Invitation

    invitation = Invitation.objects.create(
        customer=sso_a.customer, email="guest@partner.example", role="viewer", invited_by=verified_cast.owner
    )
    client = host_client(sso_a.customer)
    response = sso_log_in(client, sso_a, provider_a, sub="u-guest", email="guest@partner.example", email_verified=True)
    assert response.status_code == 302
    guest = User.objects.get(email="guest@partner.example")
    # Single sign-on made the account; the invitation, accepted by its owner, makes the membership.
    assert not Membership.objects.filter(user=guest).exists()
    client.post(f"/accounts/invitations/{invitation.token()}/")
    assert Membership.objects.get(user=guest, customer=sso_a.customer).role == "viewer"


def test_someone_removed_from_the_team_who_logs_in_again_rejoins_at_the_join_role_only(
    sso_a, provider_a, verified_cast
):
    client = host_client(sso_a.customer)
    sso_log_in(client, sso_a, provider_a, sub="u-left", email="leaver@a.example", email_verified=True)
    leaver = User.objects.get(email="leaver@a.example")
    Membership.objects.filter(user=leaver).update(role="admin")
    Membership.objects.get(user=leaver).remove()
    again = host_client(sso_a.customer)
    sso_log_in(again, sso_a, provider_a, sub="u-left", email="leaver@a.example", email_verified=True)
    assert Membership.objects.get(user=leaver, customer=sso_a.customer).role == "editor"


def test_someone_removed_rejoins_only_with_an_address_the_provider_verified(sso_a, provider_a):
    client = host_client(sso_a.customer)
    sso_log_in(client, sso_a, provider_a, sub="u-left2", email="leaver2@a.example", email_verified=True)
    leaver = User.objects.get(email="leaver2@a.example")
    Membership.objects.get(user=leaver).remove()
    again = host_client(sso_a.customer)
    sso_log_in(again, sso_a, provider_a, sub="u-left2", email="leaver2@a.example", email_verified=False)
    assert logged_in_as(again) is None
    assert not Membership.objects.filter(user=leaver).exists()


# Another workspace's people, and another workspace's provider


def test_a_workspace_provider_does_not_link_someone_who_is_not_a_member(sso_a, provider_a, verified_cast):
    """Accounts are global: linking B's member here would give A's provider (A's owner) their account."""
    sso_a.allowed_domains = "a.example b.example"
    sso_a.save()
    outsider = verified_cast.member_of_b
    client = host_client(sso_a.customer)
    response = sso_log_in(client, sso_a, provider_a, sub="u-b", email=outsider.email, email_verified=True)
    assert response.status_code == 403 and b"already has a QRCards account" in response.content
    assert logged_in_as(client) is None
    assert not SocialAccount.objects.filter(user=outsider).exists()
    assert not Membership.objects.filter(user=outsider, customer=sso_a.customer).exists()


def test_another_workspace_provider_is_unknown_on_this_host(sso_a, sso_b, provider_b):
    client = host_client(sso_a.customer)
    assert start(client, sso_b).status_code == 404
    assert client.get(f"/accounts/oidc/{sso_b.provider_id}/login/callback/?code=x&state=y").status_code == 404
    # Nor on the public host, which offers no single sign-on at all.
    assert start(host_client(None), sso_b).status_code == 404


def test_a_code_and_state_from_another_workspace_log_nobody_in(sso_a, sso_b, provider_a, provider_b, verified_cast):
    # Someone goes through B's provider on B's host, and hands B's answer to A's host, on A's and on B's callback.
    on_b = host_client(sso_b.customer)
    provider_b.set_user("u-b-owner", email=verified_cast.member_of_b.email, email_verified=True)
    back = provider_b.authorize(start(on_b, sso_b)["Location"], sub="u-b-owner")
    on_a = host_client(sso_a.customer)
    start(on_a, sso_a)  # A's own flow under way, with A's state in A's session
    query = callback_path(back).split("?", 1)[1]
    assert on_a.get(f"/accounts/oidc/{sso_b.provider_id}/login/callback/?{query}").status_code == 404
    response = on_a.get(f"/accounts/oidc/{sso_a.provider_id}/login/callback/?{query}")
    assert b"Third-Party Login Failure" in response.content
    assert logged_in_as(on_a) is None
    # B's answer still works where it belongs.
    on_b.get(callback_path(back))
    assert logged_in_as(on_b) == verified_cast.member_of_b


# The ID token


def test_an_id_token_signed_by_a_key_the_provider_does_not_publish_is_refused(sso_a, provider_a, verified_cast):
    provider_a.publish_foreign_key = True
    client = host_client(sso_a.customer)
    response = sso_log_in(
        client, sso_a, provider_a, sub="u-editor", email=verified_cast.editor.email, email_verified=True
    )
    assert b"Third-Party Login Failure" in response.content
    assert logged_in_as(client) is None


# Requiring single sign-on


@pytest.fixture
def required_a(sso_a) -> SingleSignOn:
    sso_a.required = True
    sso_a.save()
    return sso_a


def _password_log_in(client, email):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def test_members_cannot_log_in_with_a_password_once_single_sign_on_is_required(required_a, verified_cast):
    client = host_client(required_a.customer)
    response = _password_log_in(client, verified_cast.editor.email)
    assert response.status_code == 403 and b"log in with its single sign-on" in response.content
    assert logged_in_as(client) is None


def test_members_cannot_log_in_with_an_emailed_code_once_single_sign_on_is_required(required_a, verified_cast):
    from django.core import mail

    client = host_client(required_a.customer)
    client.post("/accounts/login/code/", {"email": verified_cast.editor.email})
    code = mail.outbox[-1].body.split("browser window.")[1].split()[0]
    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 403
    assert logged_in_as(client) is None


def test_a_log_in_on_the_public_host_is_not_handed_over_once_single_sign_on_is_required(required_a, verified_cast):
    from accounts.workspaces import make_handoff_token

    token = make_handoff_token(user=verified_cast.editor, customer=required_a.customer)
    client = host_client(required_a.customer)
    response = client.get(f"/accounts/handoff/{token}/")
    assert response["Location"] == "/accounts/login/"
    assert logged_in_as(client) is None


def test_owners_keep_their_password_as_the_way_back_in(required_a, verified_cast):
    client = host_client(required_a.customer)
    _password_log_in(client, verified_cast.owner.email)
    assert logged_in_as(client) == verified_cast.owner


def test_members_log_in_with_the_workspace_provider_once_it_is_required(required_a, provider_a, verified_cast):
    client = host_client(required_a.customer)
    sso_log_in(client, required_a, provider_a, sub="u-editor", email=verified_cast.editor.email, email_verified=True)
    assert logged_in_as(client) == verified_cast.editor


# Which buttons each host shows


GOOGLE = {"APPS": [{"client_id": "google-client-id", "secret": "google-secret", "settings": {}}]}


@pytest.fixture
def google_configured(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {**settings.SOCIALACCOUNT_PROVIDERS, "google": {**GOOGLE}}


def test_google_is_offered_on_workspace_hosts_when_configured(google_configured, verified_cast):
    page = host_client(verified_cast.workspace_a).get("/accounts/login/")
    assert b'action="/accounts/google/login/?process=login"' in page.content
    response = host_client(verified_cast.workspace_a).post("/accounts/google/login/")
    assert response.status_code == 302
    assert (
        response["Location"].startswith("https://accounts.google.com/") and "google-client-id" in response["Location"]
    )
    assert b"/accounts/google/login/" not in host_client(None).get("/accounts/login/").content


def test_no_provider_is_offered_unless_configured(verified_cast):
    page = host_client(verified_cast.workspace_a).get("/accounts/login/")
    assert b"Or log in with" not in page.content
    assert host_client(verified_cast.workspace_a).post("/accounts/google/login/").status_code == 404


def test_only_the_workspace_provider_is_offered_once_it_is_required(google_configured, required_a, sso_b):
    page = host_client(required_a.customer).get("/accounts/login/")
    assert (
        b"Alpha staff" in page.content
        and b"log in with Alpha staff; owners may also use their password" in page.content
    )
    assert b"/accounts/google/login/" not in page.content and b"Bravo staff" not in page.content
    assert host_client(required_a.customer).post("/accounts/google/login/").status_code == 404
    # B requires nothing: Google and B's own provider, never A's.
    page = host_client(sso_b.customer).get("/accounts/login/")
    assert b"/accounts/google/login/" in page.content and b"Bravo staff" in page.content
    assert b"Alpha staff" not in page.content


# Google and Microsoft (their servers aren't reachable from the tests: the adapter is asked directly)


def _social_login(request, provider_id: str, *, email: str, verified: object):
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialLogin

    login = SocialLogin(account=SocialAccount(provider=provider_id, uid="1"), user=User(email=email))
    login.email_addresses = [EmailAddress(email=email, verified=verified, primary=True)]
    return login


def _adapter_on(workspace):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from accounts.sso import SocialAccountAdapter

    request = RequestFactory().get("/", HTTP_HOST=workspace.primary_host)
    request.tenant, request.session = workspace, SessionStore()
    return SocialAccountAdapter(request), request


def test_google_links_anyone_by_an_address_it_verified(verified_cast):
    adapter, request = _adapter_on(verified_cast.workspace_a)
    viewer = verified_cast.viewer
    assert adapter.authenticate_by_email(_social_login(request, "google", email=viewer.email, verified=True)) == (
        viewer,
        viewer.email,
    )
    assert adapter.authenticate_by_email(_social_login(request, "google", email=viewer.email, verified=False)) is None


def test_another_workspace_provider_links_nobody_here(sso_a, sso_b, verified_cast):
    adapter, request = _adapter_on(verified_cast.workspace_a)
    owner = verified_cast.owner  # a member of A, which B's provider must not be able to vouch for
    login = _social_login(request, sso_b.provider_id, email=owner.email, verified=True)
    assert adapter.authenticate_by_email(login) is None


def test_an_outsider_signing_up_through_google_on_a_workspace_host_is_refused(verified_cast):
    from allauth.core.exceptions import ImmediateHttpResponse

    adapter, request = _adapter_on(verified_cast.workspace_a)
    with pytest.raises(ImmediateHttpResponse) as refused:
        adapter.is_open_for_signup(request, _social_login(request, "google", email="x@gmail.example", verified=True))
    assert refused.value.response.status_code == 403


def test_an_odd_callback_is_a_clear_refusal(sso_a):
    client = host_client(sso_a.customer)
    start(client, sso_a)
    path = f"/accounts/oidc/{sso_a.provider_id}/login/callback/"
    for query in (f"code={'x' * 50_000}&state={'y' * 50_000}", "error=access_denied", "code=&state=", "state=%00"):
        response = client.get(f"{path}?{query}")
        assert response.status_code < 500 and logged_in_as(client) is None


def test_a_password_session_made_before_single_sign_on_was_required_ends_with_the_requirement(
    sso_a, provider_a, verified_cast
):
    editor = host_client(sso_a.customer)
    _password_log_in(editor, verified_cast.editor.email)
    owner = host_client(sso_a.customer)
    _password_log_in(owner, verified_cast.owner.email)
    through_sso = host_client(sso_a.customer)
    sso_log_in(through_sso, sso_a, provider_a, sub="u-viewer", email=verified_cast.viewer.email, email_verified=True)
    assert editor.get("/dashboard/").status_code == 200 and editor.get("/api/v1/trails").status_code == 200
    sso_a.required = True
    sso_a.save()
    assert editor.get("/api/v1/trails").status_code == 401
    response = editor.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert editor.get("/dashboard/").status_code == 302  # logged out, not just turned away once
    assert logged_in_as(owner) == verified_cast.owner
    assert logged_in_as(through_sso) == verified_cast.viewer


def test_google_adds_nobody_to_a_workspace_even_at_its_domain(sso_a, verified_cast):
    """Only the workspace's own provider, which its owner chose, vouches for its domains."""
    from accounts.sso import admit

    _adapter, request = _adapter_on(verified_cast.workspace_a)
    newcomer = User.objects.create_user("newcomer@museum.example")
    google = _social_login(request, "google", email=newcomer.email, verified=True)
    assert admit(request, newcomer, google) is None
    assert not Membership.objects.filter(user=newcomer).exists()
    own = _social_login(request, sso_a.provider_id, email=newcomer.email, verified=True)
    assert admit(request, newcomer, own).role == "editor"


# Sparing with the provider


def test_the_provider_configuration_is_fetched_once_for_many_log_ins(sso_a, provider_a, verified_cast):
    provider_a.paths.clear()
    for _ in range(3):
        client = host_client(sso_a.customer)
        sso_log_in(client, sso_a, provider_a, sub="u-editor", email=verified_cast.editor.email, email_verified=True)
        assert logged_in_as(client) == verified_cast.editor
    assert provider_a.paths.count("/.well-known/openid-configuration") == 1
    assert provider_a.paths.count("/oauth2/token") == 3


def test_pressing_the_button_is_rate_limited(sso_a):
    client = host_client(sso_a.customer)
    for _ in range(20):
        assert start(client, sso_a).status_code == 302
    assert start(client, sso_a).status_code == 429
    # Another client is not held back by this one.
    other = host_client(sso_a.customer)
    assert other.post(f"/accounts/oidc/{sso_a.provider_id}/login/", REMOTE_ADDR="198.51.100.7").status_code == 302


def test_a_provider_that_does_not_answer_is_a_clear_error_not_a_500(sso_a, provider_a):
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    sso_a.issuer_url = f"http://127.0.0.1:{port}"
    sso_a.save()
    response = start(host_client(sso_a.customer), sso_a)
    assert response.status_code == 502 and b"Alpha staff did not answer" in response.content


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_provider_on_this_machine_or_its_network_is_never_called(sso_a, provider_a, settings, host):
    """A workspace owner must not be able to make our servers call internal services (or the cloud's metadata)."""
    settings.SSO_ALLOW_LOCAL_ISSUERS = False
    sso_a.issuer_url = provider_a.issuer.replace("localhost", host)
    sso_a.save()
    provider_a.paths.clear()
    response = start(host_client(sso_a.customer), sso_a)
    assert response.status_code == 502
    assert provider_a.paths == []


def test_a_provider_on_the_internet_passes_the_address_check():
    from accounts.sso import refuse_local_address

    refuse_local_address("https://93.184.215.14/.well-known/openid-configuration")  # an address literal: no lookup
