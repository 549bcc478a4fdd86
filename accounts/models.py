from __future__ import annotations

import datetime
import functools
import hashlib
import logging
import secrets
import zoneinfo
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

from accounts.roles import Role, may_grant
from accounts.schemas import clone_template_schema
from lib.storage import delete_prefix

log = logging.getLogger(__name__)


class UserManager(DjangoUserManager):
    """Users log in with their e-mail address; there is no username."""

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person, global to all workspaces; memberships say which ones they may enter."""

    username = None
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


# A logo's file name ends in the extension of the format Pillow found in it (WorkspaceSettingsForm.clean_logo
# names the upload so), never in whatever the uploader's file was called.
LOGO_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def _logo_path(customer: Customer, filename: str) -> str:
    # A fresh random name per upload: the URL changes with the file, so browsers may cache it for good.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in LOGO_EXTENSIONS.values():
        extension = "bin"
    return f"workspaces/{customer.schema_name}/logo-{secrets.token_hex(8)}.{extension}"


@functools.cache
def known_time_zones() -> frozenset[str]:
    # "localtime" is whatever the server's clock is set to: not a place.
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def validate_time_zone(value: str) -> None:
    """A time zone of the IANA database (which PostgreSQL shares): analytics' days and scans depend on it."""
    if value not in known_time_zones():
        raise ValidationError("Not a time zone we know, e.g. Europe/Paris.", code="invalid_time_zone")


@functools.cache
def _zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # Logged once per process and name (cached): a bad row must never stop scans being recorded.
        log.error("Unknown time zone %r on a workspace; using UTC until it is corrected", name)
        return ZoneInfo("UTC")


class Customer(TenantMixin):
    """A workspace: one organisation's trails, scans and team, in its own schema."""

    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    # Settings the workspace's owners and admins change.
    # The limits below are the model's, so the dashboard's settings form and the staff admin share them.
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Days in analytics start at midnight here, e.g. Europe/Paris.",
    )
    scan_retention_days = models.PositiveIntegerField(
        default=400,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Raw scans older than this are deleted (1 to 3650 days); daily totals are kept.",
    )
    record_country = models.BooleanField(default=True, help_text="Look up each scan's country.")
    record_referrer = models.BooleanField(default=True, help_text="Keep the page a scan came from.")
    api_requests_per_minute = models.PositiveIntegerField(
        default=600,
        validators=[MinValueValidator(1), MaxValueValidator(60_000)],
        help_text="Per API key (1 to 60000).",
    )
    # Branding, shown on scanner pages.
    accent_colour = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Write the colour as #rrggbb.", code="invalid_colour")],
        help_text="Links and buttons on scanner pages in the classic and minimal themes, e.g. #8a3b12.",
    )
    logo = models.ImageField(upload_to=_logo_path, blank=True, help_text="PNG, JPEG or WebP, at most 1 MB.")
    website = models.URLField(
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Your organisation's site, e.g. https://museum.example: the last stop of a trail links to it.",
    )

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        verbose_name = "workspace"

    def __str__(self) -> str:
        return self.name

    @property
    def slug(self) -> str:
        return self.schema_name

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's time zone; UTC (and an error in the log) if the stored name is not one."""
        return _zone_or_utc(self.time_zone)

    def today(self) -> datetime.date:
        """Today in the workspace's time zone: its analytics' days start at its own midnight."""
        return timezone.now().astimezone(self.zone).date()

    def midnight(self, day: datetime.date) -> datetime.datetime:
        """The moment `day` begins in the workspace's time zone."""
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=self.zone)

    @property
    def accent_css(self) -> str:
        """The accent colour as a tiny style sheet for scanner pages (the colour is validated: safe to inline)."""
        return f":root{{--accent:{self.accent_colour}}}" if self.accent_colour else ""

    @property
    def logo_url(self) -> str:
        """Where scanner pages load the logo from: this workspace's own host, versioned by file name."""
        if not self.logo:
            return ""
        return f"/branding/logo?v={self.logo.name.rsplit('-', 1)[-1]}"

    @property
    def own_host(self) -> str:
        """Its own host, <slug>.QRCARDS_DOMAIN: it always answers, whatever custom domains come and go."""
        return f"{self.schema_name}.{settings.QRCARDS_DOMAIN}"

    @cached_property
    def card_domain(self) -> Domain | None:
        """The domain its cards print (the primary one) while we serve it; else its own host's row.

        Cached: a request may need it once per stop. Tenants are re-read when a Domain changes
        (accounts.middleware), so a cached value lives no longer than the host cache does.
        """

        def rank(domain: Domain) -> tuple:
            return (not domain.is_primary, domain.is_custom, domain.pk)

        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("domains")
        if prefetched is not None:  # a list of someone's workspaces: no query per workspace
            served = [d for d in prefetched if d.is_served and (d.is_primary or not d.is_custom)]
            return min(served, key=rank, default=None)
        chosen = self.domains.served().filter(Q(is_primary=True) | Q(is_custom=False))
        return chosen.order_by("-is_primary", "is_custom", "pk").first()

    @property
    def primary_host(self) -> str:
        """The host its cards print, its e-mailed links and hand-overs lead to: the card domain, or its own host."""
        domain = self.card_domain
        return domain.domain if domain else self.own_host

    def content_counts(self) -> list[tuple[str, int]]:
        """How many rows each table of its own schema holds (trails, stops, scans...): what deleting it destroys.

        Found from the apps that live in workspace schemas only, so this module names none of them.
        """
        from django.apps import apps
        from django_tenants.utils import schema_context

        own_apps = [name for name in settings.TENANT_APPS if name not in settings.SHARED_APPS]
        configs = [config for config in apps.get_app_configs() if config.name in own_apps]
        models_here = [model for config in configs for model in config.get_models()]
        with schema_context(self.schema_name):
            return [(str(model._meta.verbose_name_plural), model._base_manager.count()) for model in models_here]

    @transaction.atomic
    def delete_workspace(self) -> None:
        """Revoke its API keys and drop its schema with everything in it; its domains and memberships go with it, and
        its files (logo, media) once that is committed.

        Its hosts answer 404 from then on (deleting a Domain forgets the host in every process's cache).
        """
        if self.schema_name == get_public_schema_name():
            raise ValueError("The public schema holds everyone's accounts; it is never deleted.")
        self.api_keys.update(revoked_at=timezone.now())
        prefix = f"workspaces/{self.schema_name}/"  # its logo and media library, in storage
        self.delete(force_drop=True)
        # Once the schema is gone for good: a rollback must not leave a workspace without its files.
        transaction.on_commit(lambda: delete_prefix(prefix))

    def create_schema(self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1) -> bool:
        """Copy the template schema when there is one: far quicker than running every migration."""
        if sync_schema and clone_template_schema(self.schema_name):
            return True
        return super().create_schema(check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity)


class DomainQuerySet(models.QuerySet):
    def served(self) -> DomainQuerySet:
        """The hosts we answer on: workspace hosts (and the public one) always, custom domains once verified."""
        return self.filter(Q(is_custom=False) | Q(verified_at__isnull=False))


class DomainInUse(ValidationError):
    """A domain that must stay: a workspace's own host, or the one its cards print now."""


class Domain(DomainMixin):
    """A host a workspace answers on: its own <slug>.QRCARDS_DOMAIN, or a custom domain it proved it owns.

    A custom domain is served (by the tenant middleware, and given a certificate by Caddy) only while
    verified: a TXT record holding its token at CHALLENGE_LABEL.<domain> proves the workspace controls
    the domain's DNS. accounts/domains.py checks it, at once when asked and every hour after; a verified
    domain whose proof stays gone for PROOF_GRACE stops being served.
    """

    CHALLENGE_LABEL = "_qrcards-challenge"
    TOKEN_PREFIX = "qrcards-verification="  # noqa: S105 (a label, not a secret)
    # How long a verified domain's proof may be missing before we stop serving it (owners are told at once).
    PROOF_GRACE = timedelta(days=7)
    # How long a domain may wait for its first proof: after that it is dropped, so nobody holds a name they
    # don't control and keeps its owner from adding it.
    PENDING_FOR = timedelta(days=7)

    is_custom = models.BooleanField(default=False, editable=False)
    verification_token = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="Served since.")
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_note = models.CharField(max_length=1000, blank=True, editable=False, help_text="What the last check found.")
    proof_missing_since = models.DateTimeField(null=True, blank=True, editable=False)
    lapsed_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When we stopped serving it: its proof was gone too long."
    )

    objects = DomainQuerySet.as_manager()

    class Meta:
        verbose_name = "domain"

    @property
    def is_served(self) -> bool:
        return not self.is_custom or self.verified_at is not None

    @property
    def status(self) -> str:
        """workspace (its own host), verified, proof-missing (verified, within the grace), lapsed, or pending."""
        if not self.is_custom:
            return "workspace"
        if self.verified_at is not None:
            return "proof-missing" if self.proof_missing_since else "verified"
        return "lapsed" if self.lapsed_at else "pending"

    @property
    def display_name(self) -> str:
        """The name as people write it (an internationalised name in its own letters, not xn--)."""
        import idna

        try:
            return idna.decode(self.domain)
        except idna.IDNAError:
            return self.domain

    @property
    def challenge_name(self) -> str:
        return f"{self.CHALLENGE_LABEL}.{self.domain}"

    @property
    def challenge_value(self) -> str:
        return f"{self.TOKEN_PREFIX}{self.verification_token}"

    @property
    def stops_serving_at(self) -> datetime.datetime | None:
        return self.proof_missing_since + self.PROOF_GRACE if self.proof_missing_since else None

    @property
    def dropped_at(self) -> datetime.datetime | None:
        """When a domain never verified is dropped (None for the others)."""
        return self.created_at + self.PENDING_FOR if self.status == "pending" else None

    @transaction.atomic
    def make_primary(self) -> None:
        """Print the workspace's cards with this domain from now on (cards printed before keep theirs)."""
        if not self.is_served:
            raise ValidationError("Verify this domain before printing cards with it.", code="not_verified")
        self.is_primary = True
        self.save()  # DomainMixin.save takes the mark off the workspace's other domains

    def check_removable(self) -> None:
        """Raises DomainInUse if this domain must stay."""
        if not self.is_custom:
            raise DomainInUse("The workspace's own address always works; it can't be removed.", code="own_host")
        if self.is_primary:
            raise DomainInUse("Cards print with this domain: choose another domain for them first.", code="card_domain")

    @transaction.atomic
    def remove(self) -> None:
        """Stop serving the domain and forget it (and the record of the cards printed with it)."""
        locked = Domain.objects.select_for_update().get(pk=self.pk)
        locked.check_removable()
        self.delete()


class PrintedCardQuerySet(models.QuerySet):
    def record(self, *, domain: Domain, tokens: list[str]) -> None:
        """Note that the cards of `tokens` were handed out with `domain` in their URL (one query)."""
        now = timezone.now()
        rows = [PrintedCard(domain=domain, token=token, first_printed_at=now, last_printed_at=now) for token in tokens]
        if rows:
            self.bulk_create(
                rows, update_conflicts=True, unique_fields=["domain", "token"], update_fields=["last_printed_at"]
            )


class PrintedCard(models.Model):
    """A stop's card (its token) was shown, printed or downloaded with this domain in its URL.

    Tokens are forever, and so is what is printed on a card: a domain that has printed cards is
    removed only when someone says they mean it, knowing how many cards it leaves without a home.
    Stops live in the workspace's schema, so a card is kept by its token, not a key to the stop.
    """

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="printed_cards")
    token = models.CharField(max_length=32)
    first_printed_at = models.DateTimeField()
    last_printed_at = models.DateTimeField()

    objects = PrintedCardQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "token"], name="one_printed_card_per_domain_token")]

    def __str__(self) -> str:
        return f"{self.token} on {self.domain}"


class LastOwnerError(ValidationError):
    """A workspace always keeps an owner: its last one can be neither removed nor demoted."""

    def __init__(self) -> None:
        super().__init__("A workspace needs an owner: make someone else an owner first.", code="last_owner")


class MembershipQuerySet(models.QuerySet):
    def keeps_an_owner(self, customer_id: int, *, losing: set[int], lock: bool = False) -> bool:
        """Whether `customer_id` still has an owner once the memberships `losing` stop being owners.

        With `lock` (in a transaction), its owners are locked until it ends: two owners demoting each
        other at once take turns, and the second finds it would leave none.
        """
        owners = self.filter(customer_id=customer_id, role=Membership.Role.OWNER)
        if lock:
            owners = owners.select_for_update()
        return bool(set(owners.values_list("pk", flat=True)) - losing)


class Membership(models.Model):
    Role = Role

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "customer"], name="one_membership_per_workspace")]

    def __str__(self) -> str:
        return f"{self.user} · {self.customer} ({self.role})"

    def clean(self) -> None:
        """The rules every form that edits a membership shares (the staff admin's among them).

        A membership is not moved to another person or workspace (that would remove it
        from one without the last-owner check), and the last owner is not demoted.
        change_role() and remove() check again, under a lock, when the change is made.
        """
        super().clean()
        if self.pk is None:
            return
        stored = Membership.objects.filter(pk=self.pk).values("user_id", "customer_id").first()
        if stored is None:
            return
        if (stored["user_id"], stored["customer_id"]) != (self.user_id, self.customer_id):
            raise ValidationError("A membership can't be moved: add a new one and remove this one.", code="moved")
        if self.role != self.Role.OWNER and self.is_last_owner():
            raise LastOwnerError()

    def is_last_owner(self, *, lock: bool = False) -> bool:
        """Whether this is its workspace's only owner, as stored (`lock`: see keeps_an_owner; the changes lock)."""
        return not Membership.objects.keeps_an_owner(self.customer_id, losing={self.pk}, lock=lock)

    def announce(self) -> None:
        """Tell the workspace's webhooks (member.joined) that this member joined; call it in the joining transaction."""
        from accounts.webhooks import emit  # it needs these models first

        member = {"user_id": self.user_id, "email": self.user.email, "role": self.role}
        emit("member.joined", {"member": {**member, "joined_at": self.created_at.isoformat()}}, customer=self.customer)

    @transaction.atomic
    def change_role(self, role: str) -> None:
        # The stored role, not self.role, decides: a form may have set self.role already.
        if role not in self.Role.values:
            raise ValidationError("Unknown role.", code="invalid_role")
        if role != self.Role.OWNER and self.is_last_owner(lock=True):
            raise LastOwnerError()
        self.role = role
        self.save(update_fields=["role"])

    @transaction.atomic
    def remove(self) -> None:
        if self.is_last_owner(lock=True):
            raise LastOwnerError()
        self.delete()


class InvitationVoid(ValidationError):
    """Whoever sent the invitation may no longer grant its role."""

    def __init__(self) -> None:
        super().__init__(
            "This invitation can't be used any more: whoever sent it may no longer give this role. "
            "Ask an owner of the workspace to invite you again.",
            code="invitation_void",
        )


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        """Not yet accepted and still within their time."""
        return self.filter(accepted_at__isnull=True, sent_at__gt=timezone.now() - Invitation.VALID_FOR)


class Invitation(models.Model):
    """An e-mailed offer to join a workspace with a role. Cancelling deletes it, which voids its link."""

    VALID_FOR = timedelta(days=7)
    SALT = "accounts.invitation"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.VIEWER)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="one_open_invitation_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.customer} ({self.role})"

    @property
    def expires_at(self):
        return self.sent_at + self.VALID_FOR

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and timezone.now() < self.expires_at

    def token(self) -> str:
        # The sending time is signed in, so resending voids the links sent before.
        return signing.dumps({"i": self.pk, "s": self.sent_at.isoformat()}, salt=self.SALT, compress=True)

    @classmethod
    def from_token(cls, token: str, *, customer: Customer) -> Invitation | None:
        """The pending invitation to `customer` that `token` stands for, or None."""
        try:
            data = signing.loads(token, salt=cls.SALT, max_age=cls.VALID_FOR)
        except signing.BadSignature:
            return None
        invitation = cls.objects.pending().filter(pk=data.get("i"), customer=customer).first()
        if invitation is None or invitation.sent_at.isoformat() != data.get("s"):
            return None
        return invitation

    @classmethod
    def accepted_from_token(cls, token: str, *, customer: Customer) -> Invitation | None:
        """The invitation to `customer` that `token` stands for if it was accepted already (at any age), or None."""
        try:
            data = signing.loads(token, salt=cls.SALT)
        except signing.BadSignature:
            return None
        invitation = cls.objects.filter(pk=data.get("i"), customer=customer, accepted_at__isnull=False).first()
        if invitation is None or invitation.sent_at.isoformat() != data.get("s"):
            return None
        return invitation

    def resend(self, *, by: User) -> None:
        """Send it again as `by`'s invitation: it is `by`'s role that must allow the role it grants."""
        self.sent_at = timezone.now()
        self.invited_by = by
        self.save(update_fields=["sent_at", "invited_by"])

    def issuer_may_grant(self) -> bool:
        """Whether whoever sent it may, as of now, grant its role: an owner invitation needs a sender still an owner."""
        role = (
            Membership.objects.filter(user_id=self.invited_by_id, customer_id=self.customer_id)
            .values_list("role", flat=True)
            .first()
        )
        return role is not None and may_grant(role, self.role)

    @transaction.atomic
    def accept(self, user: User) -> Membership:
        """Join `user` to the workspace; someone already a member keeps the role they have.

        Raises InvitationVoid if its sender may no longer grant its role (an owner who has since
        stepped down, an admin who left): the link would otherwise outlive the power that made it.
        """
        if not self.issuer_may_grant():
            raise InvitationVoid()
        membership, created = Membership.objects.get_or_create(
            user=user, customer=self.customer, defaults={"role": self.role}
        )
        if created:
            membership.announce()
        self.accepted_at = timezone.now()
        self.save(update_fields=["accepted_at"])
        return membership


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)

    def create_key(
        self, *, customer: Customer, name: str, scope: str, created_by: User | None = None
    ) -> tuple[ApiKey, str]:
        """Make a key and return it with its secret; the secret is not stored and can't be shown again."""
        secret = ApiKey.SECRET_PREFIX + secrets.token_urlsafe(32)
        key = self.create(
            customer=customer,
            name=name,
            scope=scope,
            created_by=created_by,
            prefix=secret[: ApiKey.VISIBLE_CHARS],
            hashed_secret=ApiKey.hash(secret),
        )
        return key, secret

    def authenticate(self, secret: str, *, customer: Customer) -> ApiKey | None:
        """The active key of `customer` with this secret, or None. Records when it was used."""
        if not secret.startswith(ApiKey.SECRET_PREFIX):
            return None
        key = self.active().filter(customer=customer, hashed_secret=ApiKey.hash(secret)).first()
        if key is not None:
            key.touch()
        return key


class ApiKey(models.Model):
    """A secret that lets a program use one workspace's API. Only a hash of the secret is kept."""

    SECRET_PREFIX = "qrc_"  # noqa: S105 (a label, not a secret)
    VISIBLE_CHARS = 12

    class Scope(models.TextChoices):
        READ = "read", "Read"
        READ_WRITE = "read-write", "Read and write"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=VISIBLE_CHARS, editable=False)
    hashed_secret = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(secret: str) -> str:
        # Secrets are 256 random bits, so a fast hash is enough: there is nothing to guess.
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE

    def touch(self) -> None:
        """Record a use, at most once a minute per key so busy keys don't write on every request."""
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class OutgoingEmailQuerySet(models.QuerySet):
    def due(self) -> OutgoingEmailQuerySet:
        return self.filter(next_attempt_at__lte=timezone.now(), attempts__lt=OutgoingEmail.MAX_ATTEMPTS)


class OutgoingEmail(models.Model):
    """An e-mail on its way out: written in the request's own transaction, sent by the worker (accounts/mail.py).

    A request never waits on a mail server, and an e-mail whose request failed (and rolled back) is never sent.
    Deleted once sent: log-in codes and reset links are kept no longer than it takes to deliver them.
    """

    MAX_ATTEMPTS = 10

    message = models.BinaryField(help_text="The Django EmailMessage, pickled.")
    recipients = models.CharField(max_length=1000)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        verbose_name = "outgoing e-mail"

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipients}"

    def failed(self, error: Exception) -> None:
        """Try again later: after 1, 2, 4 ... minutes, up to MAX_ATTEMPTS in all (about 17 hours)."""
        self.attempts += 1
        self.last_error = f"{type(error).__name__}: {error}"[:500]
        self.next_attempt_at = timezone.now() + timedelta(minutes=2 ** (self.attempts - 1))
        self.save(update_fields=["attempts", "last_error", "next_attempt_at"])


# Webhooks ---------------------------------------------------------------------------------------------------
# Shared-schema tables keyed by workspace, like the e-mail outbox: the worker delivers every workspace's
# events from one query, with no schema switch, and an endpoint can never be reached through another
# workspace's schema. accounts/webhooks.py emits, signs and sends; these hold the state.


class WebhookEndpointQuerySet(models.QuerySet):
    def active(self) -> WebhookEndpointQuerySet:
        return self.filter(disabled_at__isnull=True)

    def listening(self, *, event: str) -> WebhookEndpointQuerySet:
        """The active endpoints subscribed to `event`."""
        return self.active().filter(events__contains=[event])


class WebhookEndpoint(models.Model):
    """A URL of an integrator's that receives a workspace's events, signed with the endpoint's own secret."""

    SECRET_PREFIX = "whsec_"  # noqa: S105 (a label, not a secret)
    MAX_PER_WORKSPACE = 20
    # An endpoint failing for this long (every delivery since the first failure) is disabled, its owners told.
    FAILING_FOR = timedelta(days=1)

    class Event(models.TextChoices):
        SCAN_CREATED = "scan.created", "scan.created: scans were stored (batched)"
        TRAIL_PUBLISHED = "trail.published", "trail.published: a trail was published"
        TRAIL_UPDATED = "trail.updated", "trail.updated: a trail's document was saved"
        STOP_RETIRED = "stop.retired", "stop.retired: a stop left its trail (its card leads to the trail)"
        MEMBER_JOINED = "member.joined", "member.joined: someone joined the workspace"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField("URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    # Kept whole (not hashed) because every delivery is signed with it; shown to owners and admins only.
    secret = models.CharField(max_length=100, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        verbose_name = "webhook endpoint"
        indexes = [models.Index(fields=["customer", "disabled_at"], name="webhook_endpoint_active")]

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:
        if not self.secret:
            self.secret = self.new_secret()
        super().save(*args, **kwargs)

    @staticmethod
    def new_secret() -> str:
        """whsec_ and 24 random bytes in base64, the Standard Webhooks form (the key is the decoded bytes)."""
        import base64

        return WebhookEndpoint.SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def rotate_secret(self) -> None:
        self.secret = self.new_secret()
        self.save(update_fields=["secret"])

    def disable(self, reason: str) -> None:
        self.disabled_at = timezone.now()
        self.disabled_reason = reason[:300]
        self.save(update_fields=["disabled_at", "disabled_reason"])

    def enable(self) -> None:
        """Turn a disabled endpoint back on; its failures are forgotten and waiting deliveries go again."""
        self.disabled_at = None
        self.disabled_reason = ""
        self.failing_since = None
        self.save(update_fields=["disabled_at", "disabled_reason", "failing_since"])


class WebhookEvent(models.Model):
    """Something that happened in a workspace, written in the same transaction as the change itself."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="webhook_events")
    uid = models.CharField(max_length=40, unique=True, editable=False, help_text="webhook-id: msg_…")
    type = models.CharField(max_length=40)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "webhook event"

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self) -> WebhookDeliveryQuerySet:
        return self.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=timezone.now(), endpoint__disabled_at__isnull=True
        )


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: an outbox row the worker sends, and retries until it gives up."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One try at a delivery, as the delivery log shows it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "webhook attempt"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.delivery}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class IdempotentRequestQuerySet(models.QuerySet):
    def purge(self) -> int:
        """Forget the answers older than IdempotentRequest.KEEP (the worker's daily job); returns how many."""
        deleted, _ = self.filter(created_at__lt=timezone.now() - IdempotentRequest.KEEP).delete()
        return deleted


class IdempotentRequest(models.Model):
    """An API POST sent with an `Idempotency-Key`, and its answer: a retry with the same key gets that answer again.

    Kept per workspace and per caller (an API key, or a member's session), so two integrations can't
    collide on a key, and in the shared schema beside ApiKey: the daily purge is one indexed DELETE,
    not one per workspace schema. The row is written in the request's own transaction: a concurrent
    duplicate waits on the unique key until the first commits, then gets its answer, so only one creates.
    """

    KEEP = timedelta(hours=24)

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    caller = models.CharField(max_length=40, help_text='"key:<id>" or "user:<id>".')
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status = models.PositiveSmallIntegerField(null=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = IdempotentRequestQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "caller", "key"], name="one_answer_per_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"


# Roles single sign-on may give the people it adds: viewer or editor. Power over the workspace itself (admin:
# members, API keys, settings; owner: everything) is given to one named person by someone who holds it (an
# invitation, the team page), never to everyone an identity provider vouches for at a domain.
SSO_JOIN_ROLES = [(Role.VIEWER.value, Role.VIEWER.label), (Role.EDITOR.value, Role.EDITOR.label)]


class SingleSignOn(models.Model):
    """A workspace's own OpenID Connect provider, and its rules for logging in there (accounts/sso.py applies them).

    Its people are matched to provider accounts by the provider's `sub`, kept in allauth's SocialAccount
    under `provider_id`, which names this workspace: no other workspace's provider can log anyone in here.
    """

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="single_sign_on")
    name = models.CharField(
        max_length=50, default="Single sign-on", help_text="On the log-in button, e.g. “Museum staff log-in”."
    )
    issuer_url = models.URLField(
        "issuer URL", max_length=500, help_text="The provider's issuer, e.g. https://login.example.org/realms/staff."
    )
    client_id = models.CharField("client ID", max_length=255)
    # Kept as given: the token endpoint needs it back. Shown to nobody, not even owners (secret_hint).
    client_secret = models.CharField(max_length=1000)
    required = models.BooleanField(
        "require single sign-on",
        default=False,
        help_text="Members log in here only with this provider. Owners keep their password (and two-factor "
        "authentication) as a way back in if the provider fails.",
    )
    allowed_domains = models.CharField(
        "e-mail domains that may join",
        max_length=1000,
        blank=True,
        help_text="People whose verified address is at one of these domains (separated by spaces or commas) join "
        "the workspace on their first log-in. Empty: only members and people invited may log in.",
    )
    join_role = models.CharField("role of people who join", max_length=10, choices=SSO_JOIN_ROLES, default=Role.VIEWER)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "single sign-on"
        constraints = [
            models.CheckConstraint(
                condition=Q(join_role__in=[Role.VIEWER, Role.EDITOR]), name="single_sign_on_gives_no_power"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.customer}"

    def save(self, *args, **kwargs) -> None:
        """Saving another issuer or client forgets every account linked through the old one.

        `sub` is unique only within one issuer (and client, with pairwise subjects): kept, a link made
        through the old provider would log in whoever the new one gives the same `sub`.
        """
        from allauth.socialaccount.models import SocialAccount

        with transaction.atomic():
            stored = SingleSignOn.objects.filter(pk=self.pk).values("issuer_url", "client_id").first()
            if stored and (stored["issuer_url"], stored["client_id"]) != (self.issuer_url, self.client_id):
                SocialAccount.objects.filter(provider=self.provider_id).delete()
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        from allauth.socialaccount.models import SocialAccount

        with transaction.atomic():
            SocialAccount.objects.filter(provider=self.provider_id).delete()
            return super().delete(*args, **kwargs)

    @property
    def provider_id(self) -> str:
        """The provider's id in allauth (URLs, SocialAccount.provider): one per workspace."""
        return f"workspace-{self.customer_id}"

    @property
    def domains(self) -> list[str]:
        return [d for d in self.allowed_domains.replace(",", " ").lower().split() if d]

    def may_join(self, email: str) -> bool:
        """Whether the owner of `email` (an address the provider verified) may join on first log-in."""
        return email.rpartition("@")[2].lower() in self.domains

    @property
    def secret_hint(self) -> str:
        """Enough of the client secret to tell which one is stored, never enough to use it."""
        return f"…{self.client_secret[-4:]}" if len(self.client_secret) >= 16 else "(set)"
