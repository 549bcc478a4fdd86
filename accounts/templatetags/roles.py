"""`{% if request|may:"manage_members" %}`: the role table, asked from templates."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

from accounts.permissions import membership_for
from accounts.roles import can

register = template.Library()


@register.filter
def may(request: HttpRequest, ability: str) -> bool:
    membership = membership_for(request)
    return membership is not None and can(membership.role, ability)
