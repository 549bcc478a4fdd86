from __future__ import annotations

import datetime
import re
import secrets
from html import unescape

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

import dap
from accounts.webhooks import emit

# No 0/O, 1/I/L: a token read off a card can't be mistyped. 31**8 ≈ 8.5e11 tokens.
TOKEN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # noqa: S105 - not a secret
TOKEN_LENGTH = 8


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def normalize_token(token: str) -> str | None:
    """The canonical (upper-case) form of a token as typed or scanned, or None if it can't be one."""
    token = token.upper()
    if len(token) != TOKEN_LENGTH or any(char not in TOKEN_ALPHABET for char in token):
        return None
    return token


def assemble(source: str) -> dap.Assembly:
    """`source` assembled against the current workspace's media library: every trail document is assembled
    here, so references to pictures and audio it lacks are reported wherever a document is checked."""
    return dap.assemble(source, media=Asset.objects.kinds())


class StaleVersion(Exception):
    """Someone saved the trail after the editor was opened; saving now would lose their change."""


class InvalidDocument(Exception):
    """The Markdown has errors; nothing was saved. `assembly.diagnostics` says what."""

    def __init__(self, assembly: dap.Assembly):
        super().__init__("; ".join(f"line {d.line}: {d.message}" for d in assembly.errors))
        self.assembly = assembly


class TrailQuerySet(models.QuerySet):
    def live(self) -> TrailQuerySet:
        return self.filter(deleted_at__isnull=True)

    def with_counts(self, *, scans_since: datetime.datetime) -> TrailQuerySet:
        """Each trail with `stop_count`, its live stops, and `recent_scans`, its scans by people since `scans_since`.

        The scans are counted in a subquery (a second join would multiply one count by the other), reached
        through their relation to Trail: the scans app depends on this one, not the other way round.
        """
        recent = (
            Trail.objects.filter(pk=OuterRef("pk"), scans__is_bot=False, scans__scanned_at__gte=scans_since)
            .order_by()
            .values("pk")
            .annotate(n=Count("scans"))
            .values("n")
        )
        return self.annotate(
            stop_count=Count("stops", filter=Q(stops__retired_at__isnull=True)),
            recent_scans=Coalesce(Subquery(recent, output_field=IntegerField()), 0),
        )

    def import_markdown(self, source: str) -> tuple[Trail, bool]:
        """Update the live trail with the document's title, or create one. Returns (trail, created)."""
        trail = self.live().filter(title=assemble(source).title).first()
        if trail is None:
            return Trail.create_from_markdown(source), True
        trail.set_source(source)
        return trail, False


class Trail(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    source = models.TextField(help_text="The trail as one Markdown document.")
    language = models.CharField(max_length=16, default="en")
    theme = models.CharField(max_length=20, default="classic")
    # From the front matter (`call_to_action = "..."`): printed under each code; empty for cards' default line.
    call_to_action = models.CharField(max_length=dap.MAX_CALL_TO_ACTION_CHARS, blank=True, editable=False)
    intro_html = models.TextField(blank=True, editable=False)
    # The library names its live text refers to, kept with each save: where an asset is used is an indexed
    # lookup, however many and long the trails (AssetQuerySet.usage).
    media = ArrayField(models.CharField(max_length=100), default=list, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TrailQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        indexes = [GinIndex(fields=["media"], name="trail_media")]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def create_from_markdown(cls, source: str, *, status: str = Status.DRAFT) -> Trail:
        trail = cls(status=status)
        trail.set_source(source)
        return trail

    @transaction.atomic
    def set_source(self, source: str, *, expected_version: int | None = None) -> dap.Assembly:
        """Assemble `source` and save it with its stops, keeping the tokens of stops that survive.

        Raises InvalidDocument (and saves nothing) when the document has errors, and
        StaleVersion when `expected_version` is given and someone saved in between.
        """
        assembly = assemble(source)
        if not assembly.ok:
            raise InvalidDocument(assembly)
        created = self.pk is None
        self._check_version(expected_version)
        if self.pk is not None and _same_text(source, Trail.objects.values_list("source", flat=True).get(pk=self.pk)):
            return assembly  # nothing changed: no new version (a browser's CRLF line ends count as the same text)
        self.source = source
        self.title = assembly.title[:200]
        self.language = assembly.language
        self.theme = assembly.theme
        self.call_to_action = assembly.call_to_action
        self.intro_html = assembly.intro_html
        self.media = media_names(assembly)
        if self.pk is None:
            self.save()
        else:
            self.version = F("version") + 1
            self.save()
            self.refresh_from_db(fields=["version"])
        self._sync_stops(assembly.stops)
        if not created:
            emit("trail.updated", self.webhook_data())
        elif self.status == self.Status.PUBLISHED:
            emit("trail.published", self.webhook_data())
        return assembly

    def _check_version(self, expected_version: int | None) -> None:
        """Lock the trail's row and raise StaleVersion if someone saved a version other than `expected_version`."""
        if expected_version is not None and self.pk is not None:
            current = Trail.objects.select_for_update().values_list("version", flat=True).get(pk=self.pk)
            if current != expected_version:
                raise StaleVersion

    @transaction.atomic
    def change(
        self,
        *,
        title: str | None = None,
        theme: str | None = None,
        status: str | None = None,
        expected_version: int | None = None,
    ) -> dap.Assembly | None:
        """Set the title, theme and status without the caller sending the document.

        Title and theme live in the document's front matter, so they are rewritten there and saved as a new
        version, like any edit (stops and their tokens untouched); the status is not in the document and
        keeps the version. Returns the assembly when the document changed. Raises StaleVersion when
        `expected_version` is given and someone saved another, and InvalidDocument if the result has errors.
        """
        self._check_version(expected_version)
        source = self.source
        for key, value in (("title", title), ("theme", theme)):
            if value is not None:
                source = dap.set_front_matter(source, key, value)
        assembly = self.set_source(source) if source != self.source else None
        if status is not None and status != self.status:
            self._set_status(status)
        return assembly

    def _sync_stops(self, assembled: tuple[dap.AssembledStop, ...]) -> None:
        existing = {stop.key: stop for stop in self.stops.select_for_update()}
        now = timezone.now()
        retired = []
        # Positions are unique among a trail's stops: clear them first so reordering can't collide.
        self.stops.update(position=None)
        for position, part in enumerate(assembled, start=1):
            stop = existing.pop(part.id, None) or Stop(trail=self, key=part.id, token=Stop.objects.unused_token())
            if stop.pk is None or (stop.title, stop.html) != (part.title[:200], part.html):
                stop.changed_at = now  # translations older than this may be out of date
            stop.position = position
            stop.title = part.title[:200]
            stop.html = part.html
            stop.excerpt = part.excerpt
            stop.retired_at = None
            stop.save()
        for stop in existing.values():
            if stop.retired_at is None:
                stop.retired_at = now
                stop.save(update_fields=["retired_at", "updated_at"])
                retired.append(stop.webhook_data())
        emit("stop.retired", *retired)

    def publish(self) -> None:
        self._set_status(self.Status.PUBLISHED)

    def unpublish(self) -> None:
        self._set_status(self.Status.DRAFT)

    def archive(self) -> None:
        """Close the trail: its cards say so, and it leaves the main list. Tokens stay."""
        self._set_status(self.Status.ARCHIVED)

    @transaction.atomic
    def _set_status(self, status: str) -> None:
        changed = status != self.status
        self.status = status
        self.save(update_fields=["status", "updated_at"])
        if changed:
            emit("trail.published" if status == self.Status.PUBLISHED else "trail.updated", self.webhook_data())

    def webhook_data(self) -> dict:
        """What webhook events about this trail carry (accounts/webhooks.py)."""
        return {
            "trail": {
                "id": self.pk,
                "title": self.title,
                "status": self.status,
                "version": self.version,
                "language": self.language,
                "theme": self.theme,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            }
        }

    @transaction.atomic
    def duplicate(self) -> Trail:
        """A draft copy with its own new tokens, titled "Copy of …"."""
        return Trail.create_from_markdown(dap.retitle(self.source, f"Copy of {self.title}"))

    @transaction.atomic
    def delete_softly(self) -> None:
        """Remove the trail from the dashboard and retire its stops: printed cards show the retired page."""
        now = timezone.now()
        self.deleted_at = now
        self.save(update_fields=["deleted_at", "updated_at"])
        retired = []
        for stop in self.stops.filter(retired_at__isnull=True):
            stop.retired_at = now
            stop.position = None
            stop.save(update_fields=["retired_at", "position", "updated_at"])
            retired.append(stop.webhook_data())
        emit("stop.retired", *retired)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.deleted_at is None

    def live_stops(self) -> models.QuerySet[Stop]:
        return self.stops.filter(retired_at__isnull=True).order_by("position")

    def languages(self) -> tuple[str, ...]:
        """The main language first, then the translations' languages in the order they were added."""
        return (self.language, *self.translations.order_by("pk").values_list("language", flat=True))

    def printed_languages(self) -> str:
        """What its cards say of its languages, each in its own name ("English · Français"); "" with one."""
        languages = self.languages()
        return " · ".join(dap.language(tag).name for tag in languages) if len(languages) > 1 else ""


class StopQuerySet(models.QuerySet):
    def live(self) -> StopQuerySet:
        return self.filter(retired_at__isnull=True)

    def unused_token(self) -> str:
        while True:
            token = new_token()
            if not Stop.objects.filter(token=token).exists():
                return token


class Stop(models.Model):
    """One page of a trail, printed as one QR card. Its token is forever: stops are retired, never deleted."""

    trail = models.ForeignKey(Trail, on_delete=models.PROTECT, related_name="stops")
    key = models.CharField("stable id", max_length=64)
    token = models.CharField(max_length=TOKEN_LENGTH, unique=True, editable=False)
    position = models.PositiveIntegerField(null=True, blank=True, editable=False)
    title = models.CharField(max_length=200)
    html = models.TextField(editable=False)
    excerpt = models.CharField(max_length=300, blank=True, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    changed_at = models.DateTimeField(
        default=timezone.now, editable=False, help_text="When its title or text last changed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StopQuerySet.as_manager()

    class Meta:
        ordering = ["trail", "position"]
        constraints = [
            models.UniqueConstraint(fields=["trail", "key"], name="one_stop_per_id_in_trail"),
            models.UniqueConstraint(fields=["trail", "position"], name="one_stop_per_position_in_trail"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.token})"

    def get_absolute_url(self) -> str:
        return reverse("trails:stop-page", args=[self.token])

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def neighbours(self) -> tuple[Stop | None, Stop | None, int]:
        """The live stops before and after this one, and how many its trail has: two small queries at any size.

        Live stops hold the positions 1 to n (retired ones none), so the neighbours are one either side.
        """
        around = {
            stop.position: stop
            for stop in Stop.objects.live()
            .filter(trail_id=self.trail_id, position__in=(self.position - 1, self.position + 1))
            .only("trail", "token", "title", "position")
        }
        count = Stop.objects.live().filter(trail_id=self.trail_id).count()
        return around.get(self.position - 1), around.get(self.position + 1), count

    def webhook_data(self) -> dict:
        """What a stop.retired event carries: enough to find its printed card."""
        return {
            "stop": {
                "id": self.pk,
                "key": self.key,
                "token": self.token,
                "title": self.title,
                "trail_id": self.trail_id,
                "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            }
        }

    def qr_url(self, *, host: str, scheme: str = "https") -> str:
        """The URL its QR code carries: upper case, so the code is as small as it can be."""
        from trails.qr import stop_qr_url

        return stop_qr_url(host=host, token=self.token, scheme=scheme)


def _same_text(a: str, b: str) -> bool:
    """Whether two documents say the same: a browser's CRLF line ends and a form's stripped last newline aside."""
    return a.replace("\r\n", "\n").rstrip() == b.replace("\r\n", "\n").rstrip()


def media_names(assembly: dap.Assembly) -> list[str]:
    """The library names an assembled document's intro and stops refer to, from their HTML, sorted."""
    found = set()
    for html in (assembly.intro_html, *(stop.html for stop in assembly.stops)):
        for src in _SOURCES.findall(html):
            if (name := dap.media_name(unescape(src))) is not None:
                found.add(name)
    return sorted(found)


class TrailTranslation(models.Model):
    """A trail in another language: its own Markdown document, whose stops match the main one's by id.

    Stops keep their tokens and cards: a translation only gives them another title and text.
    """

    trail = models.ForeignKey(Trail, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=16, help_text="A BCP 47 tag, from dap.LANGUAGES.")
    source = models.TextField(help_text="The translation as one Markdown document.")
    title = models.CharField(max_length=200)
    intro_html = models.TextField(blank=True, editable=False)
    media = ArrayField(models.CharField(max_length=100), default=list, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trail", "pk"]
        indexes = [GinIndex(fields=["media"], name="translation_media")]
        constraints = [models.UniqueConstraint(fields=["trail", "language"], name="one_translation_per_language")]

    def __str__(self) -> str:
        return f"{self.trail} ({self.language})"

    @property
    def info(self) -> dap.Language:
        return dap.language(self.language)

    @transaction.atomic
    def set_source(self, source: str, *, expected_version: int | None = None) -> dap.Assembly:
        """Assemble and save the translation and its stops; the same exceptions as `Trail.set_source`."""
        assembly = assemble(source)
        if not assembly.ok:
            raise InvalidDocument(assembly)
        if expected_version is not None and self.pk is not None:
            current = TrailTranslation.objects.select_for_update().values_list("version", flat=True).get(pk=self.pk)
            if current != expected_version:
                raise StaleVersion
        self.source = source
        self.title = assembly.title[:200]
        self.intro_html = assembly.intro_html
        self.media = media_names(assembly)
        if self.pk is None:
            try:
                with transaction.atomic():
                    self.save()
            except IntegrityError:  # someone added this language meanwhile: theirs stays, as for a stale version
                self.pk = None
                raise StaleVersion from None
        else:
            self.version = F("version") + 1
            self.save()
            self.refresh_from_db(fields=["version"])
        existing = {stop.key: stop for stop in self.stops.select_for_update()}
        now = timezone.now()
        for part in assembly.stops:
            stop = existing.pop(part.id, None) or StopTranslation(translation=self, key=part.id)
            if stop.pk is None or (stop.title, stop.html) != (part.title[:200], part.html):
                stop.title, stop.html, stop.excerpt, stop.changed_at = part.title[:200], part.html, part.excerpt, now
                stop.save()
        StopTranslation.objects.filter(pk__in=[stop.pk for stop in existing.values()]).delete()
        return assembly

    def report(self, assembly: dap.Assembly | None = None) -> dap.TranslationReport:
        """How complete and current this translation (or `assembly`, its unsaved text) is against the trail."""
        trail = self.trail
        translated_at = dict(self.stops.values_list("key", "changed_at")) if self.pk else {}
        main_changed = dict(trail.live_stops().values_list("key", "changed_at"))
        return dap.compare(
            assemble(trail.source),
            assembly or assemble(self.source),
            tag=self.language,
            main_changed=main_changed,
            translated_at=translated_at,
        )


class StopTranslation(models.Model):
    """One stop's title and text in a translation's language, matched to the stop by its stable id (`key`)."""

    translation = models.ForeignKey(TrailTranslation, on_delete=models.CASCADE, related_name="stops")
    key = models.CharField("stable id", max_length=64)
    title = models.CharField(max_length=200)
    html = models.TextField()
    excerpt = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["translation", "key"]
        constraints = [models.UniqueConstraint(fields=["translation", "key"], name="one_stop_per_id_in_translation")]

    def __str__(self) -> str:
        return f"{self.title} ({self.key})"


def new_media_key() -> str:
    """128 random bits: a media file's URL can't be guessed, in this workspace or any other."""
    return secrets.token_urlsafe(16)


class AssetQuerySet(models.QuerySet):
    def kinds(self) -> dict[str, str]:
        """Every asset's name and kind ("image" or "audio"): what DAP is told exists."""
        return dict(self.values_list("name", "kind"))

    def used_bytes(self) -> int:
        """What the workspace's media takes in storage, originals and variants: what its quota counts."""
        return self.aggregate(total=Coalesce(models.Sum("bytes"), 0))["total"]

    def usage(self, *, names: list[str] | None = None, lock: bool = False) -> dict[str, list[Trail | TrailTranslation]]:
        """Which live documents refer to which asset names: {name: [trails, then translations]}.

        Read from the names each trail and translation keeps of its references when it is saved (`media`,
        indexed), so the library's page costs two indexed queries however many and long the trails. With
        `names`, only those names; `lock` locks the documents found, for a change that rewrites them.
        """
        trails = Trail.objects.live()
        translations = TrailTranslation.objects.filter(trail__deleted_at__isnull=True).select_related("trail")
        if names is not None:
            trails, translations = trails.filter(media__overlap=names), translations.filter(media__overlap=names)
        else:
            trails, translations = trails.exclude(media=[]), translations.exclude(media=[])
        if lock:  # whole rows: a document rewritten is saved whole
            trails, translations = trails.select_for_update(), translations.select_for_update(of=("self",))
        else:
            trails = trails.only("pk", "title", "media")
            translations = translations.only("pk", "language", "media", "trail__id", "trail__title")
        wanted = None if names is None else set(names)
        usage: dict[str, list[Trail | TrailTranslation]] = {}
        for document in [*trails.order_by("title", "pk"), *translations.order_by("trail__title", "language")]:
            for name in document.media:
                if wanted is None or name in wanted:
                    usage.setdefault(name, []).append(document)
        return usage


# How DAP's HTML holds a reference to the library (and a hot-linked picture, which dap.media_name tells apart).
_SOURCES = re.compile(r'<img [^>]*?\bsrc="([^"]*)"')


class Asset(models.Model):
    """A picture or a sound in the workspace's media library, referred to from trails by its name.

    Its files live in storage under `workspaces/<schema>/media/<key>/`: the original (`original`) and, for a
    picture, the variants made at upload (`variants`). The key is random and changes when the file is replaced,
    so every URL can be cached for good and none can be guessed.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", "Picture"
        AUDIO = "audio", "Audio"

    name = models.CharField(max_length=100, unique=True, help_text="How a trail refers to it: ![alt](name).")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    key = models.CharField(max_length=32, unique=True, default=new_media_key, editable=False)
    original = models.CharField(max_length=40, editable=False, help_text="The original's file name, under the key.")
    content_type = models.CharField(max_length=100, editable=False)
    bytes = models.PositiveBigIntegerField(default=0, editable=False, help_text="Original and variants together.")
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    duration = models.FloatField(null=True, blank=True, editable=False, help_text="Seconds, for audio.")
    colour = models.CharField(max_length=7, blank=True, editable=False, help_text="Shown while a picture loads.")
    # [{"file": "w480.webp", "width": 480, "height": 320, "type": "image/webp", "bytes": 31000}, ...]
    variants = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def url(self, file: str | None = None) -> str:
        """Where this workspace's hosts serve one of the asset's files (the original when `file` is None)."""
        return f"/media/{self.key}/{file or self.original}"

    def thumb_url(self) -> str:
        """The library's small picture of it: its thumbnail variant, else its smallest; "" for sound."""
        if self.kind != self.Kind.IMAGE:
            return ""
        variants = [v for v in self.variants if v.get("file")]
        thumbs = [v for v in variants if v.get("role") == "thumb"]
        if chosen := thumbs or sorted(variants, key=lambda v: v.get("width") or 0)[:1]:
            return self.url(chosen[0]["file"])
        return self.url()

    def duration_text(self) -> str:
        """How long the sound lasts, as a player shows it: "1:05", "1:02:09"."""
        seconds = round(self.duration or 0)
        hours, rest = divmod(seconds, 3600)
        return f"{hours}:{rest // 60:02}:{rest % 60:02}" if hours else f"{rest // 60}:{rest % 60:02}"

    def reference(self) -> tuple[str, str]:
        """How a trail's Markdown refers to it, and the placeholder in that text for the author to write over."""
        if self.kind == self.Kind.IMAGE:
            return f"![alt text here]({self.name})", "alt text here"
        # An audio guide is labelled in the brackets, its transcript a quote right under it (dap/media.py).
        placeholder = "what it is"
        return (
            f"![Audio guide: {placeholder}]({self.name})\n\n> Transcript: write here what the recording says.",
            placeholder,
        )

    def used_by(self) -> list[Trail | TrailTranslation]:
        """The live trails, then the translations, whose documents refer to this asset by its name."""
        return Asset.objects.usage(names=[self.name]).get(self.name, [])

    @transaction.atomic
    def rename(self, name: str) -> list[Trail | TrailTranslation]:
        """Give the asset another name, and rewrite every document that refers to it, each as a new version.

        All or nothing, in one transaction: the asset's row and the documents are locked, so an editor who opened
        one of them before the rename gets the stale-version answer rather than bringing the old name back
        unnoticed. Raises MediaNameTaken if another asset has `name`. Returns the documents rewritten.
        """
        old = Asset.objects.select_for_update().values_list("name", flat=True).get(pk=self.pk)
        if name == old:
            return []
        if Asset.objects.filter(name=name).exclude(pk=self.pk).exists():
            raise MediaNameTaken(name)
        documents = Asset.objects.usage(names=[old], lock=True).get(old, [])
        self.name = name
        try:
            with transaction.atomic():
                self.save(update_fields=["name", "updated_at"])
        except IntegrityError:  # taken meanwhile
            self.name = old
            raise MediaNameTaken(name) from None
        for document in documents:
            document.set_source(dap.rename_media(document.source, old, name))
        return documents


class MediaNameTaken(Exception):
    """Another asset of the workspace has this name already."""
