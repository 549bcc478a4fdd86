"""`{% workspace_sso as sso %}`: the request's workspace's own provider, read afresh (never off the cached tenant)."""

from __future__ import annotations

from django import template

from accounts.models import SingleSignOn
from accounts.sso import workspace_sso as _workspace_sso

register = template.Library()


@register.simple_tag(takes_context=True)
def workspace_sso(context) -> SingleSignOn | None:
    request = context.get("request")
    return _workspace_sso(request) if request is not None else None
