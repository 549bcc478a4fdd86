"""Roles, and what each may do in a workspace: the one table (ABILITIES) the README's role table describes.

Plain rules with no queries, so the models can ask them too (an invitation is only as good as its
sender's right to give its role); accounts/permissions.py applies them to requests.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


ABILITIES: dict[str, frozenset[str]] = {
    "view_trails": frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR, Role.VIEWER}),
    "edit_trails": frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
    # The media library: pictures and sound that trails refer to by name.
    "view_media": frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR, Role.VIEWER}),
    "edit_media": frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
    "view_analytics": frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR, Role.VIEWER}),
    "manage_members": frozenset({Role.OWNER, Role.ADMIN}),
    "manage_api_keys": frozenset({Role.OWNER, Role.ADMIN}),
    "change_settings": frozenset({Role.OWNER, Role.ADMIN}),
    # Making, demoting or removing an owner: by any route (team page, invitation, API, admin).
    "manage_owners": frozenset({Role.OWNER}),
    "delete_workspace": frozenset({Role.OWNER}),
    # Who may log in, and who joins on their own: as much power as making owners.
    "configure_sso": frozenset({Role.OWNER}),
}


def can(role: str, ability: str) -> bool:
    return role in ABILITIES[ability]


def may_manage(actor_role: str, member_role: str) -> bool:
    """Whether `actor_role` may change the role of, or remove, a member whose role is `member_role`."""
    return can(actor_role, "manage_members") and (member_role != Role.OWNER or can(actor_role, "manage_owners"))


def may_grant(actor_role: str, role: str) -> bool:
    """Whether `actor_role` may give someone `role`, by a role change or an invitation (owners only make owners)."""
    return may_manage(actor_role, role)


def grantable_roles(actor_role: str) -> list[tuple[str, str]]:
    """The role choices to offer someone of `actor_role`: "owner" only to owners."""
    return [(value, label) for value, label in Role.choices if may_grant(actor_role, value)]
