"""Who may do what in a workspace, asked of a request: its member's role against the table in accounts/roles.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.models import Membership
from accounts.roles import ABILITIES, can
from accounts.sso import session_may_stay


def membership_for(request: HttpRequest) -> Membership | None:
    """The logged-in user's membership of the request's workspace, or None."""
    if not request.user.is_authenticated or getattr(request, "tenant", None) is None:
        return None
    if not hasattr(request, "_membership"):
        membership = (
            Membership.objects.filter(user=request.user, customer_id=request.tenant.pk)
            .select_related("customer", "customer__single_sign_on")
            .first()
        )
        if membership is not None and not session_may_stay(request, membership):
            request.sso_session_ended = True
            membership = None
        request._membership = membership
    return request._membership


def member_required(ability: str) -> Callable:
    """Let in members of this workspace whose role has `ability`.

    Anonymous visitors are sent to log in; a logged-in non-member gets a 404, so a
    workspace's existence is confirmed to nobody outside it; a member whose role
    lacks the ability gets a 403. The membership is at `request.membership`.
    """
    if ability not in ABILITIES:
        raise ValueError(f"Unknown ability {ability!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            membership = membership_for(request)
            if membership is None and getattr(request, "sso_session_ended", False):
                logout(request)
                messages.info(request, "This workspace's members log in with its single sign-on.")
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if membership is None:
                raise Http404("No such page.")
            if not can(membership.role, ability):
                raise PermissionDenied(f"Your role ({membership.get_role_display()}) can't do this.")
            request.membership = membership
            return view(request, *args, **kwargs)

        wrapped.required_ability = ability  # read by the tests that check every URL has a rule
        return wrapped

    return decorator
