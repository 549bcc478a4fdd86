"""Single sign-on as a person does it, in Chromium with the Content-Security-Policy on: our log-in page, the
provider's, and back, logged in. The policy must let the button's form lead to the provider."""

from __future__ import annotations

import pytest

from accounts.models import Membership, SingleSignOn, User
from tests.fixtures.oidc import oidc_providers

__all__ = ["oidc_providers"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, oidc_providers):
    """A live server with a workspace of this module's own ("sierra"), its own provider, and people at sierra.example."""
    from allauth.account.models import EmailAddress

    from accounts.workspaces import create_workspace, ensure_public_workspace
    from tests.fixtures.browser import PASSWORD, Site, live_server

    with django_db_blocker.unblock():
        ensure_public_workspace()
        owner = User.objects.create_user("owner@sierra.example", PASSWORD)
        EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
        workspace = create_workspace(name="Sierra Gallery", slug="sierra", owner=owner)
        SingleSignOn.objects.create(
            customer=workspace,
            name="Sierra staff",
            issuer_url=oidc_providers[0].issuer,
            client_id="qrcards-sierra",
            client_secret="sierra-secret-0123456789",
            allowed_domains="sierra.example",
        )
        assert workspace.primary_host
        try:
            with live_server() as port:
                yield Site(workspace=workspace, owner=owner, port=port)
        finally:
            User.objects.filter(email__endswith="@sierra.example").delete()
            workspace.delete(force_drop=True)


@pytest.fixture
def strict_page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.violations = []
    page.on(
        "console",
        lambda message: page.violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()


def test_a_new_person_logs_in_through_the_workspace_provider_and_lands_on_the_dashboard(
    site, strict_page, oidc_providers, settings
):
    settings.SSO_ALLOW_LOCAL_ISSUERS = True  # the provider is on loopback
    page = strict_page
    oidc_providers[0].set_user("walker", email="walker@sierra.example", email_verified=True)
    page.goto(site.url("/accounts/login/"))
    page.get_by_role("button", name="Sierra staff").click()
    page.wait_for_url(f"{oidc_providers[0].issuer}/oauth2/authorize?**")
    page.fill("input[name=sub]", "walker")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(site.url("/dashboard/"))
    assert page.violations == []
    walker = User.objects.get(email="walker@sierra.example")
    assert Membership.objects.get(user=walker, customer=site.workspace).role == "viewer"
