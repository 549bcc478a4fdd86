from __future__ import annotations

import datetime

from django.db import models

from trails.models import Stop, Trail


class Scan(models.Model):
    """One request for a stop's page. Holds no full IP address and no whole user agent hash input."""

    class Device(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        TABLET = "tablet", "Tablet"
        DESKTOP = "desktop", "Desktop"
        BOT = "bot", "Bot"
        OTHER = "other", "Other"

    stop = models.ForeignKey(Stop, on_delete=models.PROTECT, related_name="scans")
    trail = models.ForeignKey(Trail, on_delete=models.PROTECT, related_name="scans")
    scanned_at = models.DateTimeField()
    device = models.CharField(max_length=10, choices=Device.choices, default=Device.OTHER)
    browser = models.CharField(max_length=50, blank=True)
    os = models.CharField("OS", max_length=50, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    referrer = models.CharField(max_length=512, blank=True)
    country = models.CharField(max_length=2, blank=True)
    ip = models.GenericIPAddressField("IP network", null=True, blank=True, help_text="Truncated: IPv4 /24, IPv6 /48.")
    visitor = models.CharField(max_length=16, blank=True, help_text="Keyed hash of IP and user agent; the key changes daily.")
    is_bot = models.BooleanField(default=False)

    class Meta:
        ordering = ["-scanned_at"]
        indexes = [
            models.Index(fields=["scanned_at"]),
            models.Index(fields=["stop", "scanned_at"]),
            models.Index(fields=["trail", "scanned_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.stop_id} at {self.scanned_at:%Y-%m-%d %H:%M:%S}"


class VisitorSaltQuerySet(models.QuerySet):
    def for_day(self, day: datetime.date) -> bytes:
        """The key for visitor hashes on `day`, made on first use; older keys are thrown away."""
        from scans.visitors import new_salt

        salt, created = self.get_or_create(day=day, defaults={"salt": new_salt()})
        if created:
            # Without yesterday's key nobody, us included, can link today's visitors to earlier ones.
            self.filter(day__lt=day - datetime.timedelta(days=1)).delete()
        return bytes(salt.salt)


class VisitorSalt(models.Model):
    day = models.DateField(unique=True)
    salt = models.BinaryField()

    objects = VisitorSaltQuerySet.as_manager()
