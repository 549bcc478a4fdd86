"""allauth, fitted to workspaces: who may sign up and log in on which host, and where they land."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django_tenants.utils import get_public_schema_name

from accounts.models import Invitation, Membership
from accounts.workspaces import email_url
from lib.networks import network_of

INVITATION_SESSION_KEY = "accounts_invitation"


def on_public_host(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is None or tenant.schema_name == get_public_schema_name()


def session_invitation(request: HttpRequest) -> Invitation | None:
    """The pending invitation to this host's workspace whose link this browser followed, if any."""
    token = request.session.get(INVITATION_SESSION_KEY)
    if not token or on_public_host(request):
        return None
    return Invitation.from_token(token, customer=request.tenant)


def may_enter(request: HttpRequest, user) -> bool:
    """On a workspace host, only its members, and people invited to it, may log in."""
    if on_public_host(request):
        return True
    customer = request.tenant
    if Membership.objects.filter(user=user, customer=customer).exists():
        return True
    return Invitation.objects.pending().filter(customer=customer, email__iexact=user.email).exists()


def client_pseudonym(ip: str) -> str:
    """A stand-in for a client address in rate-limit counters: its network (/24, /48), hashed with our secret key.

    One network is one client (as in analytics), and the address can't be read back, even by
    trying all 2**32 IPv4 addresses, without the secret key.
    """
    return "net-" + salted_hmac("accounts.client", network_of(ip) or ip, algorithm="sha256").hexdigest()[:32]


def email_links(request: HttpRequest, value: Any) -> Any:
    """`value`, if it is an absolute URL on this request's own host, with the canonical scheme and port.

    allauth builds the links it mails (password reset, e-mail confirmation, sign-up) with
    request.build_absolute_uri, that is, from the Host header the request came with.
    """
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        return value
    parts = urlsplit(value)
    if parts.netloc.lower() != request.get_host().lower():
        return value
    path = parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return email_url(split_domain_port(parts.netloc)[0], path)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Workspaces are created on the public host; a workspace host takes new
        # people only through an invitation link.
        return on_public_host(request) or session_invitation(request) is not None

    def authenticate(self, request: HttpRequest, **credentials: Any):
        user = super().authenticate(request, **credentials)
        if user is not None and not may_enter(request, user):
            # Exactly what a wrong password gets, so an outsider learns nothing here.
            self.authentication_failed(request, **credentials)
            return None
        return user

    def pre_login(self, request: HttpRequest, user, **kwargs: Any) -> HttpResponse | None:
        # Every log-in passes here: password, e-mailed code (which skips authenticate()), sign-up, single sign-on.
        from accounts import sso

        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if not on_public_host(request):
            if not sso.is_workspace_login(sso.workspace_sso(request), sociallogin):
                if sso.password_refused(request.tenant, user):
                    return sso.refuse(request, "This workspace's members log in with its single sign-on.")
            else:
                sso.admit(request, user, sociallogin)
        if not may_enter(request, user):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return render(request, "404.html", status=404)
        return super().pre_login(request, user, **kwargs)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if on_public_host(request):
            return reverse("workspace-list")
        invitation = session_invitation(request)
        if invitation is not None:
            return reverse("invitation-accept", args=[request.session[INVITATION_SESSION_KEY]])
        return reverse("scans:dashboard")

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return self.get_login_redirect_url(request)

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        return reverse("account_login")

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth counts an address's failed log-ins per site, its site being the request's host: five
        # tries on every host. One person has one password on every host, so one count (accounts/cache.py
        # keeps the counter itself global). Private in allauth 65.21; tests/accounts/test_log_in.py notices.
        return credentials.get("email", credentials.get("username", "")).lower()

    def get_client_ip(self, request: HttpRequest) -> str:
        """Not the address: allauth keys its rate-limit counters with this, in the cache (a table, or Redis)."""
        return client_pseudonym(super().get_client_ip(request))

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every e-mail's links use the canonical scheme and port (settings.QRCARDS_PORT), never the Host header's."""
        request = self.request
        if request is not None:
            context = {name: email_links(request, value) for name, value in context.items()}
            host = split_domain_port(request.get_host())[0]
            # allauth's templates sign off with the site's "domain": without a sites framework, the Host header.
            context.setdefault("current_site", SimpleNamespace(name="QRCards", domain=email_url(host, "")))
        super().send_mail(template_prefix, email, context)
