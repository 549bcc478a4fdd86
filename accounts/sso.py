"""Single sign-on: which providers a workspace host offers, whom they may log in, and who joins on first log-in.

Providers are allauth's social accounts. Google and Microsoft come from settings (SOCIALACCOUNT_PROVIDERS) and
are the same everywhere; a workspace's own OpenID Connect provider (SingleSignOn) exists on its own hosts only,
as an allauth app built per request, so another workspace's provider can't even be named on them.

What a provider may do here, by how far we trust it:
- any provider logs in the person it has already been linked to, and links a person by an address it says
  it verified (`email_verified` exactly true; Microsoft's addresses never count, being editable by users);
- a workspace's own provider is trusted for that workspace only: it links only people already members of it
  (users are global, so linking anyone else would hand a workspace owner someone else's account), and adds
  new people, at the workspace's join role, only with a verified address at one of its domains, or invited.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from allauth.account.internal.stagekit import clear_login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Customer, Invitation, Membership, SingleSignOn, User
from accounts.roles import Role


def workspace_sso(request: HttpRequest) -> SingleSignOn | None:
    """The request's workspace's own provider, if it has one (None on the public host)."""
    from accounts.adapter import on_public_host

    if request is None or on_public_host(request):
        return None
    if not hasattr(request, "_single_sign_on"):
        request._single_sign_on = SingleSignOn.objects.filter(customer_id=request.tenant.pk).first()
    return request._single_sign_on


def is_workspace_login(sso: SingleSignOn | None, sociallogin: SocialLogin | None) -> bool:
    return sso is not None and sociallogin is not None and sociallogin.account.provider == sso.provider_id


def verified_emails(sociallogin: SocialLogin) -> list[str]:
    """The addresses the provider vouches for: `email_verified` must be exactly true, not "false" or 1."""
    return [address.email.lower() for address in sociallogin.email_addresses if address.verified is True]


def password_refused(customer: Customer, user: User) -> bool:
    """Whether `user` must log in to `customer` through its own provider, not a password, code or hand-over.

    Owners never are: they keep their password (and two-factor authentication) as the way back in when
    the provider is down, misconfigured or its secret has expired; otherwise nobody could fix it.
    """
    sso = SingleSignOn.objects.filter(customer=customer, required=True).first()
    if sso is None:
        return False
    return not Membership.objects.filter(user=user, customer=customer, role=Role.OWNER).exists()


def session_may_stay(request: HttpRequest, membership: Membership) -> bool:
    """Whether this session may go on in `membership`'s workspace: once it requires its provider, a member's
    session must have been made through it (one made with a password before then ends). Owners' always may."""
    from allauth.account.internal.flows.login import get_authentication_records

    try:
        sso = membership.customer.single_sign_on
    except SingleSignOn.DoesNotExist:
        return True
    if not sso.required or membership.role == Role.OWNER:
        return True
    records = get_authentication_records(request, request.user)
    return any(r.get("method") == "socialaccount" and r.get("provider") == sso.provider_id for r in records)


def admit(request: HttpRequest, user: User, sociallogin: SocialLogin | None) -> Membership | None:
    """Add `user` to the request's workspace at its join role, if its own provider just vouched for them.

    Only for an address of the user's the provider verified, at one of the workspace's domains; someone
    already a member keeps their role (never raised, never lowered by a log-in).
    """
    sso = workspace_sso(request)
    if not is_workspace_login(sso, sociallogin) or not sso.domains:
        return None
    if user.email.lower() not in verified_emails(sociallogin) or not sso.may_join(user.email):
        return None
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, customer=sso.customer, defaults={"role": sso.join_role}
        )
        if created:
            membership.announce()
    return membership


def refuse(request: HttpRequest, reason: str, *, status: int = 403) -> HttpResponse:
    """The page a refused single sign-on shows: what happened, and the way back to the log-in page."""
    clear_login(request)
    context = {"reason": reason, "sso": workspace_sso(request)}
    return render(request, "accounts/sso_refused.html", context, status=status)


class ProviderNotOffered(SocialApp.DoesNotExist, Http404):
    """A provider this host doesn't offer: a 404 (from allauth's Google and Microsoft views, a bare one is a 500)."""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest, provider: str | None = None, client_id: str | None = None):
        """Google and Microsoft (from settings) and the workspace's own provider, on workspace hosts only.

        Apps someone adds to allauth's SocialApp table are left out: they would be offered on every host.
        When the workspace requires its own provider, it is the only one offered.
        """
        from accounts.adapter import on_public_host

        if request is None or on_public_host(request):
            return []
        sso = workspace_sso(request)
        apps = [] if sso is not None and sso.required else super().list_apps(None, provider, client_id)
        apps = [app for app in apps if app.pk is None]  # settings' apps only
        offered = sso is not None and provider in (None, "openid_connect", sso.provider_id)
        if offered and client_id in (None, sso.client_id):
            apps.append(workspace_app(sso))
        # A button's form is answered with a redirect to its provider: the page's policy must let forms go there.
        request.csp_form_origins = [
            *getattr(request, "csp_form_origins", []),
            *(provider_origin(app) for app in apps),
        ]
        return apps

    def get_provider(self, request: HttpRequest, provider: str, client_id: str | None = None):
        sso = workspace_sso(request)
        if sso is not None and provider == sso.provider_id:
            return WorkspaceOIDCProvider(request, app=self.get_app(request, provider, client_id))
        return super().get_provider(request, provider, client_id)

    def get_app(self, request: HttpRequest, provider: str, client_id: str | None = None) -> SocialApp:
        try:
            return super().get_app(request, provider, client_id)
        except SocialApp.DoesNotExist:
            raise ProviderNotOffered(f"No provider {provider!r} on this host") from None

    def authenticate_by_email(self, sociallogin: SocialLogin) -> tuple[User, str] | None:
        """Link an existing person only by an address the provider verified, and, for a workspace's own
        provider, only a member of that workspace."""
        sso = workspace_sso(self.request)
        for email in verified_emails(sociallogin):
            user = User.objects.filter(email__iexact=email, is_active=True).first()
            if user is None:
                continue
            if sociallogin.account.provider.startswith("workspace-"):
                if not is_workspace_login(sso, sociallogin):
                    return None
                if not Membership.objects.filter(user=user, customer_id=sso.customer_id).exists():
                    return None
            return user, email
        return None

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """A new person is made only by a workspace's own provider: at its domains, or invited there."""
        sso = workspace_sso(request)
        if not is_workspace_login(sso, sociallogin):
            raise ImmediateHttpResponse(
                refuse(request, "There is no QRCards account for this address here: ask the workspace to invite you.")
            )
        emails = verified_emails(sociallogin)
        email = (sociallogin.user.email or "").lower()
        if email not in emails:
            raise ImmediateHttpResponse(refuse(request, "Your identity provider did not confirm your e-mail address."))
        if User.objects.filter(email__iexact=email).exists():
            # Someone has this address already, and isn't a member (or they would have been linked).
            raise ImmediateHttpResponse(
                refuse(request, "This address already has a QRCards account: ask the workspace for an invitation.")
            )
        invited = Invitation.objects.pending().filter(customer_id=sso.customer_id, email__iexact=email).exists()
        if not (sso.may_join(email) or invited):
            raise ImmediateHttpResponse(
                refuse(request, "Your e-mail address is not one of the domains that may join this workspace.")
            )
        return True

    def get_requests_session(self):
        """Every call to a provider (discovery, token, keys), refused unless its host is on the public internet,
        and never following a redirect (which could lead anywhere)."""
        session = super().get_requests_session()
        if not settings.SSO_ALLOW_LOCAL_ISSUERS:
            send = session.request

            def request(method: str, url: str, *args, **kwargs):
                refuse_local_address(url)
                return send(method, url, *args, **(kwargs | {"allow_redirects": False}))

            session.request = request
        return session

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]):
        user = super().populate_user(request, sociallogin, data)
        user.email = (user.email or "").lower()
        return user


def refuse_local_address(url: str) -> None:
    """Raises InvalidURL unless `url`'s host is, and resolves only to, addresses on the public internet.

    (Checked before the request, so a name whose record changes between the check and the connection
    could slip through; the window is a DNS lookup's.)
    """
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError) as error:
        raise requests.exceptions.ConnectionError(f"{host!r} can't be resolved: {error}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise requests.exceptions.InvalidURL(f"{host!r} is a local address ({ip}): not a provider's")


# Where Google's and Microsoft's log-in pages are (their authorization endpoints).
PROVIDER_ORIGINS = {"google": "https://accounts.google.com", "microsoft": "https://login.microsoftonline.com"}


def provider_origin(app: SocialApp) -> str:
    """The origin of the page a provider's button leads to: a workspace provider's issuer's.

    (A provider whose authorization endpoint is on another host than its issuer would need that host too.)
    """
    if app.provider in PROVIDER_ORIGINS:
        return PROVIDER_ORIGINS[app.provider]
    parts = urlsplit(app.settings["server_url"])
    return f"{parts.scheme}://{parts.netloc}"


def workspace_app(sso: SingleSignOn) -> SocialApp:
    """The workspace's provider as an allauth app (never saved: SingleSignOn is where it is kept)."""
    return SocialApp(
        provider="openid_connect",
        provider_id=sso.provider_id,
        name=sso.name,
        client_id=sso.client_id,
        secret=sso.client_secret,
        settings={
            "server_url": sso.issuer_url,
            "oauth_pkce_enabled": True,
            # The claims come from the ID token, whose signature WorkspaceOIDCAdapter checks.
            "fetch_userinfo": False,
        },
    )


class WorkspaceOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """allauth's OpenID Connect client, stricter about the ID token, and sparing with the provider.

    allauth skips the token's signature when it came straight from the token endpoint (allowed over TLS);
    we check it always, against the keys the provider publishes, and ask for an ID token. The provider's
    discovery document is kept for DISCOVERY_SECONDS: a button pressed again and again (by anyone: the
    log-in page is public) doesn't make us fetch it again and again.
    """

    DISCOVERY_SECONDS = 300

    @property
    def openid_config(self) -> dict:
        if not hasattr(self, "_openid_config"):
            server_url = self.get_provider().server_url
            key = "sso-discovery:" + hashlib.sha256(server_url.encode()).hexdigest()
            config = cache.get(key)
            if config is None:
                config = super().openid_config
                cache.set(key, config, self.DISCOVERY_SECONDS)
            self._openid_config = config
        return self._openid_config

    def complete_login(self, request: HttpRequest, app: SocialApp, token, **kwargs):
        if not kwargs["response"].get("id_token"):
            raise OAuth2Error("The provider sent no ID token")
        return super().complete_login(request, app, token, **kwargs)

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        # Replaces allauth's own (tests/accounts/test_sso.py notices if allauth stops calling it).
        config = self.openid_config
        return verify_id_token(id_token, keys_url=config["jwks_uri"], issuer=config["issuer"], audience=app.client_id)


# Algorithms an ID token may be signed with: public-key ones only, so a published key can't double as an HMAC secret.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


def verify_id_token(id_token: str, *, keys_url: str, issuer: str, audience: str) -> dict:
    """The ID token's claims once its signature (by a key the provider publishes), issuer, audience and expiry check.

    The key is the one named by the token's `kid`, or the provider's only key when the token names none
    (OpenID Connect Core 10.1 allows that). Raises OAuth2Error for anything else.
    """
    import jwt
    from allauth.socialaccount.adapter import get_adapter

    try:
        header = jwt.get_unverified_header(id_token)
        with get_adapter().get_requests_session() as session:
            response = session.get(keys_url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        kid = header.get("kid")
        candidates = [key for key in keys if key.key_id == kid] if kid else keys
        if len(candidates) != 1:
            raise OAuth2Error(f"No single published key for this ID token (kid {kid!r})")
        key = candidates[0]
        if header.get("alg") not in ID_TOKEN_ALGORITHMS or header.get("alg") != key.algorithm_name:
            raise OAuth2Error(f"ID token signed with an algorithm we don't accept: {header.get('alg')!r}")
        return jwt.decode(
            id_token,
            key=key.key,
            algorithms=[key.algorithm_name],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as error:
        raise OAuth2Error(f"Invalid ID token: {error}") from error


class WorkspaceOIDCProvider(OpenIDConnectProvider):
    """A workspace's provider, whose redirect to the provider (the button) uses WorkspaceOIDCAdapter too."""

    oauth2_adapter_class = WorkspaceOIDCAdapter
