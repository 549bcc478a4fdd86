from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Count, Q

from trails.models import Stop, Trail


class ScanQuerySet(models.QuerySet):
    def people(self) -> ScanQuerySet:
        """Scans by people: crawlers, link previews and HEAD requests are kept and flagged, but left out."""
        return self.filter(is_bot=False)

    def recent_counts(self, *, workspace) -> dict[str, int]:
        """How many scans came today and in the last 7 days, days taken in the workspace's time zone."""
        today = workspace.midnight(workspace.today())
        return self.aggregate(
            today=Count("pk", filter=Q(scanned_at__gte=today)),
            week=Count("pk", filter=Q(scanned_at__gte=today - datetime.timedelta(days=6))),
        )


class Scan(models.Model):
    """One request for a stop's page. Holds no full IP address and no whole user agent hash input."""

    class Device(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        TABLET = "tablet", "Tablet"
        DESKTOP = "desktop", "Desktop"
        BOT = "bot", "Bot"
        OTHER = "other", "Other"

    uid = models.UUIDField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="Made when the scan was answered: one row per scan.",
    )
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
    visitor = models.CharField(
        max_length=16, blank=True, help_text="Keyed hash of IP and user agent; the key changes daily."
    )
    is_bot = models.BooleanField(default=False)
    language = models.CharField(max_length=16, blank=True, help_text="The language the page was served in.")

    objects = ScanQuerySet.as_manager()

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

    def __str__(self) -> str:
        return f"visitor key of {self.day}"  # never the key itself


class RollupDay(models.Model):
    """A closed day whose roll-ups are built, with the raw scans they counted.

    A day whose raw count no longer matches `scans` got late scans and is built again.
    """

    day = models.DateField(unique=True)
    scans = models.PositiveIntegerField(help_text="Raw scans, bots included, that the roll-ups of this day count.")
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day}: {self.scans} scans"


class StopDay(models.Model):
    """One stop's scans on one day, the day taken in the workspace's time zone."""

    day = models.DateField()
    stop = models.ForeignKey(Stop, on_delete=models.PROTECT, related_name="+")
    trail = models.ForeignKey(Trail, on_delete=models.PROTECT, related_name="+")
    scans = models.PositiveIntegerField(help_text="Scans by people.")
    bot_scans = models.PositiveIntegerField()
    visitors = models.PositiveIntegerField(help_text="Distinct visitor hashes among people's scans.")
    all_visitors = models.PositiveIntegerField(help_text="Distinct visitor hashes, bots included.")
    funnel_visitors = models.PositiveIntegerField(
        help_text="Visitors who also scanned the trail's first stop that day."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "stop"], name="one_stop_day")]

    def __str__(self) -> str:
        return f"stop {self.stop_id} on {self.day}"


class TrailDay(models.Model):
    """A trail's scans on one day; with no trail, the whole workspace's.

    Visitors can't be added up over stops or trails (one visitor scans many), so
    each level keeps its own distinct count.
    """

    day = models.DateField()
    trail = models.ForeignKey(Trail, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    scans = models.PositiveIntegerField()
    bot_scans = models.PositiveIntegerField()
    visitors = models.PositiveIntegerField()
    all_visitors = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "trail"], name="one_trail_day", nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"trail {self.trail_id or 'all'} on {self.day}"


class DimensionDay(models.Model):
    """Scans of one trail on one day with one device, browser, OS, country or referrer host.

    Keyed by trail rather than stop: the page filters by trail only, and it keeps
    the table a tenth of the size. "" is an unknown value (or no referrer).
    """

    class Dimension(models.TextChoices):
        DEVICE = "device", "Devices"
        BROWSER = "browser", "Browsers"
        OS = "os", "Operating systems"
        COUNTRY = "country", "Countries"
        REFERRER = "referrer", "Referrers"

    day = models.DateField()
    trail = models.ForeignKey(Trail, on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    value = models.CharField(max_length=255)
    scans = models.PositiveIntegerField()
    bot_scans = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "trail", "dimension", "value"], name="one_dimension_day"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value!r} of trail {self.trail_id} on {self.day}"
