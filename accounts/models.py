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
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

from accounts.roles import Role, may_grant
from accounts.schemas import clone_template_schema

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
        """Revoke its API keys and drop its schema with everything in it; its domains and memberships go with it.

        Its hosts answer 404 from then on (deleting a Domain forgets the host in every process's cache).
        """
        if self.schema_name == get_public_schema_name():
            raise ValueError("The public schema holds everyone's accounts; it is never deleted.")
        self.api_keys.update(revoked_at=timezone.now())
        self.delete(force_drop=True)

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
        membership, _ = Membership.objects.get_or_create(
            user=user, customer=self.customer, defaults={"role": self.role}
        )
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
