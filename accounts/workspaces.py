"""Creating workspaces: a Customer, its schema, its first Domain and its owner, together or not at all.

Also what spans hosts: absolute URLs on a workspace's or the public host, and the
short-lived token that carries a log-in from the public host to a workspace's host
(cookies are host-only, so the session can't follow). New schemas are copied from a
template (accounts/schemas.py).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from accounts.models import Customer, Domain, Membership, User

HANDOFF_SALT = "accounts.handoff"
HANDOFF_MAX_AGE = 60  # seconds: the token only has to survive one redirect


def ensure_public_workspace() -> Customer:
    """The public tenant and its domain (QRCARDS_DOMAIN), created on first use."""
    public, _ = Customer.objects.get_or_create(schema_name=get_public_schema_name(), defaults={"name": "QRCards"})
    Domain.objects.get_or_create(domain=settings.QRCARDS_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


def workspace_host(slug: str) -> str:
    return f"{slug}.{settings.QRCARDS_DOMAIN}"


def on_request_port(request: HttpRequest, host: str) -> str:
    """`host` with the port this request came in on, if its Host header named one.

    The Host header, not SERVER_PORT: behind a proxy the server's own port is not the browser's.
    """
    requested = request.get_host()
    port = requested.rsplit(":", 1)[1] if ":" in requested and not requested.endswith("]") else ""
    return f"{host}:{port}" if port else host


def email_url(host: str, path: str = "/") -> str:
    """An absolute URL on `host` for an e-mail: the canonical scheme and port, whatever the request said.

    Not on_request_port: a Host header is written by whoever sends the request, so a reset link
    built from it could send its reader (and the reset key) to a port of the sender's choosing.
    """
    port = settings.QRCARDS_PORT
    return f"{settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL}://{host}{f':{port}' if port else ''}{path}"


def workspace_url(request: HttpRequest, customer: Customer, path: str = "/", *, host: str | None = None) -> str:
    """An absolute URL on `customer`'s `host` (by default its primary one), with this request's scheme and port."""
    return f"{request.scheme}://{on_request_port(request, host or customer.primary_host)}{path}"


def public_url(request: HttpRequest, path: str = "/") -> str:
    """An absolute URL on the public host, with the scheme and port this request came in on."""
    return f"{request.scheme}://{on_request_port(request, settings.QRCARDS_DOMAIN)}{path}"


@transaction.atomic
def create_workspace(*, name: str, slug: str, owner: User) -> Customer:
    """Create the workspace `slug` with its schema, its host and `owner` as its owner.

    One transaction: PostgreSQL's DDL is transactional, so a failure at any step
    takes the schema, the rows and the domain with it.
    """
    customer = Customer(schema_name=slug, name=name)
    customer.save(verbosity=0)
    Domain.objects.create(domain=workspace_host(slug), tenant=customer, is_primary=True)
    Membership.objects.create(user=owner, customer=customer, role=Membership.Role.OWNER)
    return customer


def make_handoff_token(*, user: User, customer: Customer) -> str:
    """A token that logs `user` in on `customer`'s host once, within a minute."""
    last_login = user.last_login.isoformat() if user.last_login else ""
    return signing.dumps({"u": user.pk, "w": customer.pk, "l": last_login}, salt=HANDOFF_SALT)


def use_handoff_token(token: str, *, customer: Customer) -> User | None:
    """The user `token` stands for if it is fresh, for `customer`, and unused; else None.

    Single use without a table of used tokens: the token carries the user's
    last_login, and using it moves last_login on (compare-and-set, so of two
    requests racing with the same token only one wins).
    """
    try:
        data = signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("w") != customer.pk:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not Membership.objects.filter(user=user, customer=customer).exists():
        return None
    last_login = datetime.fromisoformat(data["l"]) if data.get("l") else None
    claimed = User.objects.filter(pk=user.pk, last_login=last_login).update(last_login=timezone.now())
    return user if claimed == 1 else None
