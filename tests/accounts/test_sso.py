"""Single sign-on against real OpenID Connect providers on loopback: the whole redirect, the code exchange,
the ID token's checks, linking, who joins and at which role, and every refusal (accounts/sso.py)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.conf import settings

from accounts.models import Membership, SingleSignOn, User
from tests.accounts.conftest import PASSWORD, host_client
from tests.fixtures.oidc import callback_path, oidc_providers

__all__ = ["oidc_providers"]


@pytest.fixture(autouse=True)
def _http_issuers(settings):
    settings.SSO_ALLOW_HTTP_ISSUERS = True


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
