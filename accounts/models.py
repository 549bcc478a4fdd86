from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager as DjangoUserManager
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


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


class Customer(TenantMixin):
    """A workspace: one organisation's trails, scans and team, in its own schema."""

    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    # Settings the workspace's owners and admins change.
    time_zone = models.CharField(max_length=64, default="UTC", help_text="Days in analytics start at midnight here.")
    scan_retention_days = models.PositiveIntegerField(default=400, help_text="Raw scans older than this are deleted.")
    record_country = models.BooleanField(default=True, help_text="Look up each scan's country.")
    record_referrer = models.BooleanField(default=True, help_text="Keep the page a scan came from.")
    api_requests_per_minute = models.PositiveIntegerField(default=600)

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
    def primary_host(self) -> str:
        domain = self.domains.filter(is_primary=True).first()
        return domain.domain if domain else f"{self.schema_name}.{settings.QRCARDS_DOMAIN}"


class Domain(DomainMixin):
    class Meta:
        verbose_name = "domain"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "customer"], name="one_membership_per_workspace")]

    def __str__(self) -> str:
        return f"{self.user} · {self.customer} ({self.role})"


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)

    def create_key(self, *, customer: Customer, name: str, scope: str, created_by: User | None = None) -> tuple[ApiKey, str]:
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

    SECRET_PREFIX = "qrc_"
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
        from django.utils import timezone

        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    def revoke(self) -> None:
        from django.utils import timezone

        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
