"""allauth, fitted to workspaces: who may sign up and log in on which host, and where they land."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

from accounts.models import Invitation, Membership

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
        # Log-in by e-mailed code doesn't pass through authenticate().
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
