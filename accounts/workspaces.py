"""Creating workspaces: a Customer, its schema, its first Domain and its owner, together or not at all."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_tenants.utils import get_public_schema_name

from accounts.models import Customer, Domain, Membership, User


def ensure_public_workspace() -> Customer:
    """The public tenant and its domain (QRCARDS_DOMAIN), created on first use."""
    public, _ = Customer.objects.get_or_create(schema_name=get_public_schema_name(), defaults={"name": "QRCards"})
    Domain.objects.get_or_create(domain=settings.QRCARDS_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


def workspace_host(slug: str) -> str:
    return f"{slug}.{settings.QRCARDS_DOMAIN}"


@transaction.atomic
def create_workspace(*, name: str, slug: str, owner: User) -> Customer:
    """Create the workspace `slug` with its schema, its host and `owner` as its owner."""
    customer = Customer(schema_name=slug, name=name)
    customer.save(verbosity=0)
    Domain.objects.create(domain=workspace_host(slug), tenant=customer, is_primary=True)
    Membership.objects.create(user=owner, customer=customer, role=Membership.Role.OWNER)
    return customer
