"""The demo workspace that `make run` opens with: idempotent, so running it again changes nothing."""

from __future__ import annotations

from pathlib import Path

from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django_tenants.utils import schema_context

from accounts.models import Customer, User
from accounts.workspaces import create_workspace, ensure_public_workspace
from trails.media import add_asset
from trails.models import Asset, Trail, TrailTranslation

DEMO_SLUG = "demo"
DEMO_PASSWORD = "qrcards-demo"  # noqa: S105 - a development demo, printed by `make run`
DEMO_OWNER_EMAIL = "owner@demo.example"
DEMO_STAFF_EMAIL = "staff@qrcards.example"
DEMO_TRAIL = Path(__file__).with_name("demo.md")
# The demo trail's translations, one document per language beside the main one.
DEMO_TRANSLATIONS = {"fr": Path(__file__).with_name("demo.fr.md")}
# Its pictures and audio guide, made by us for it (demo_media/README.md says how, and their licence).
DEMO_MEDIA = Path(__file__).with_name("demo_media")
DEMO_MEDIA_FILES = ("fountain.jpg", "clock-tower.jpg", "bridge.jpg", "clock-tower-guide.mp3")


@transaction.atomic
def seed_demo() -> Customer:
    ensure_public_workspace()
    staff = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
    if staff is None:
        User.objects.create_superuser(DEMO_STAFF_EMAIL, DEMO_PASSWORD)
    owner = User.objects.filter(email=DEMO_OWNER_EMAIL).first()
    if owner is None:
        owner = User.objects.create_user(DEMO_OWNER_EMAIL, DEMO_PASSWORD, first_name="Demo", last_name="Owner")
    for user in User.objects.filter(email__in=[DEMO_OWNER_EMAIL, DEMO_STAFF_EMAIL]):
        # The demo accounts' addresses count as verified, so they can log in straight away.
        EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    workspace = Customer.objects.filter(schema_name=DEMO_SLUG).first()
    if workspace is None:
        workspace = create_workspace(name="Demo Town Museum", slug=DEMO_SLUG, owner=owner)
    with schema_context(DEMO_SLUG):
        add_media(DEMO_MEDIA, DEMO_MEDIA_FILES)
        if not Trail.objects.exists():
            Trail.create_from_markdown(DEMO_TRAIL.read_text(), status=Trail.Status.PUBLISHED)
        add_translations(Trail.objects.live().order_by("pk").first(), DEMO_TRANSLATIONS)
    return workspace


def add_media(folder: Path, names: tuple[str, ...]) -> None:
    """Put in the current workspace's media library each of `names` (files in `folder`) it lacks, by its name,
    through the same door as an upload, so the demo's files get their variants like any other."""
    present = set(Asset.objects.filter(name__in=names).values_list("name", flat=True))
    for name in names:
        if name not in present:
            add_asset(name=name, upload=SimpleUploadedFile(name, (folder / name).read_bytes()))


def add_translations(trail: Trail | None, documents: dict[str, Path]) -> None:
    """Give `trail` the translations it lacks, each read from its file."""
    for language, path in documents.items():
        if trail is not None and not trail.translations.filter(language=language).exists():
            TrailTranslation(trail=trail, language=language).set_source(path.read_text())
