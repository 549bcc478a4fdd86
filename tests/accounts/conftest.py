"""Account tests add an admin to workspace A and allauth's verified e-mail rows to the cast."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

from accounts.models import Membership, User
from tests.fixtures.workspaces import PASSWORD, host_client

__all__ = ["PASSWORD", "host_client"]


@pytest.fixture(scope="session")
def admin_of_a(cast, django_db_blocker) -> User:
    with django_db_blocker.unblock():
        admin = User.objects.create_user("admin@a.example", PASSWORD)
        Membership.objects.create(user=admin, customer=cast.workspace_a, role=Membership.Role.ADMIN)
    return admin


@pytest.fixture(scope="session")
def verified_cast(cast, admin_of_a, django_db_blocker):
    """Everyone in the cast has confirmed their address, as they would have to log in with allauth."""
    with django_db_blocker.unblock():
        for user in (cast.owner, cast.editor, cast.viewer, cast.member_of_b, cast.staff, admin_of_a):
            EmailAddress.objects.get_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
    return cast


@pytest.fixture(autouse=True)
def _empty_rate_limits(db):
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()
