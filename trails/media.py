"""A workspace's media library: taking in uploads, making picture variants, storing, replacing and deleting files.

The views and the API call these functions and nothing below them; each either finishes or leaves nothing behind.

What is checked, in order, before anything is stored (`MediaRefused.code` in brackets):
- the name: given, or a clean form of the file's name [`invalid_name`], not taken [`name_in_use`];
- the type, by the file's own bytes, never its name or the browser's Content-Type [`unsupported_type`]:
  pictures JPEG, PNG, WebP or HEIC (Pillow reads them; no other decoder is tried), sound MP3, M4A/AAC or
  Ogg (Opus, Vorbis) (mutagen must parse the container and find a duration). A file with HTML or SVG markup
  where a browser would look for it (its head, a picture's text chunks, anywhere for the tags that run script)
  is refused too, so a PNG/HTML polyglot never gets in [`markup`];
- the size [`too_large`]: `MEDIA_MAX_IMAGE_MB`, `MEDIA_MAX_AUDIO_MB`; a picture's pixels as declared in its
  header, before a pixel is decoded, against `MEDIA_MAX_IMAGE_PIXELS` [`too_many_pixels`] (a decompression
  bomb is a small file that declares 60,000 × 60,000);
- the workspace's quota, originals and variants together [`quota_exceeded`];
- whether the file decodes [`unreadable`].

A picture's original is kept (to make new variants one day) but never served: only the variants, re-encoded
from its pixels with its orientation applied and every piece of metadata (EXIF, GPS, XMP, comments) left
behind, colours converted to sRGB. Sound is served as uploaded, with the type found here.

`asset.variants` is a list of dicts, one per file (the render engineer builds `<picture>` from it):
    {"file": "w480.webp",     # the file name under the asset's key: asset.url(v["file"])
     "role": "display",       # "display": for the page, in srcset; "thumb": the library's small picture
     "type": "image/webp",    # "image/webp" or "image/jpeg" (the fallback)
     "width": 480, "height": 360, "bytes": 31000}
Display variants come in each type at the widths of DISPLAY_WIDTHS that the original reaches (never wider than
it; a narrower original gives one width, its own), smallest first; one "thumb" WebP fits THUMB_BOX.

Files live in the default storage under `workspaces/<schema>/media/<key>/`: `original.<ext>` and the variants.
A new file (a replacement) gets a new key, so every URL can be cached for good.
"""

from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from lib.storage import delete_files, delete_prefix
from trails.models import Asset, new_media_key

try:  # HEIC from phones: pillow-heif registers an opener with Pillow
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pinned in requirements.txt
    pass

logger = logging.getLogger(__name__)

DISPLAY_WIDTHS = (480, 960)  # 1x and 2x of a phone screen's ~400 CSS pixels, with some room
THUMB_BOX = (320, 320)
ORIENTATION = 0x0112  # the EXIF tag
WEBP_QUALITY = 72
JPEG_QUALITY = 78
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

IMAGE_FORMATS = {  # Pillow's format name: (Content-Type, extension)
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "HEIF": ("image/heic", "heic"),
}
# Markup a browser would act on. Anywhere in a picture only tags of 5+ letters, so that compressed bytes don't
# match by chance (one in ~10^5 for a 20 MB file); in a file's head, and in a picture's text, `<svg` too.
# (XMP, the XML photo tools write into pictures, is none of these.)
ACTIVE_MARKUP = re.compile(rb"<(?:script|html|body|iframe|object|embed|!doctype)[\s/>]", re.IGNORECASE)
HEAD_MARKUP = re.compile(rb"<(?:script|html|body|iframe|object|embed|!doctype|svg)[\s/>]", re.IGNORECASE)
HEAD_BYTES = 64 * 1024


class MediaRefused(Exception):
    """An upload or a change refused; str(error) says why to the person who made it, `.code` to a program."""

    def __init__(self, message: str, *, code: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details  # for the API's answer: which file, the quota's figures


# Limits -----------------------------------------------------------------------------------------------------


def max_bytes(kind: str) -> int:
    megabytes = settings.MEDIA_MAX_IMAGE_MB if kind == Asset.Kind.IMAGE else settings.MEDIA_MAX_AUDIO_MB
    return megabytes * 1024 * 1024


def max_request_bytes() -> int:
    """The largest body an upload request (the API's) may send: two of the largest files, and room for the form."""
    return 2 * max(max_bytes(Asset.Kind.IMAGE), max_bytes(Asset.Kind.AUDIO)) + 1024 * 1024


def max_files_per_upload() -> int:
    """How many files one upload (a form post, an API call) may carry."""
    return settings.MEDIA_MAX_FILES_PER_UPLOAD


def quota() -> tuple[int, int]:
    """Bytes the current workspace's media takes (originals and variants), and bytes it may take."""
    return Asset.objects.used_bytes(), settings.MEDIA_QUOTA_MB * 1024 * 1024


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


# Names ------------------------------------------------------------------------------------------------------


def clean_name(filename: str, *, extension: str) -> str:
    """A name trails can refer to, from an uploaded file's name: "IMG 1234.HEIC" is "img-1234.heic".

    Letters, digits, dots, dashes and underscores only (a Markdown link needs no brackets for it), lower case,
    with the extension of what the file really is.
    """
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")[: 99 - len(extension)] or "media"
    return f"{stem}.{extension}"


def check_name(name: str, *, exclude: Asset | None = None) -> str:
    """`name` if trails can use it and no other asset has it; MediaRefused otherwise."""
    name = name.strip()
    if not NAME.fullmatch(name):
        raise MediaRefused(
            "A name is 1 to 100 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
            code="invalid_name",
        )
    taken = Asset.objects.filter(name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise MediaRefused(f"The name “{name}” is in use; choose another or replace that file.", code="name_in_use")
    return name


def _free_name(name: str) -> str:
    """`name`, or the first of "name-2.ext", "name-3.ext"… no asset has: phones call every photo "image.jpg"."""
    stem, dot, extension = name.rpartition(".")
    taken = set(Asset.objects.filter(name__startswith=stem).values_list("name", flat=True))
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}.{extension}" if dot else f"-{number}"
        candidate = (stem if dot else name)[: 100 - len(suffix)] + suffix
    return candidate


# Reading an upload ------------------------------------------------------------------------------------------


@dataclass
class Processed:
    """What an upload turned into: the row's values and the files to store (name -> (bytes or file, type))."""

    kind: str
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    colour: str = ""
    variants: list[dict] = field(default_factory=list)
    files: dict[str, tuple[bytes | None, str]] = field(default_factory=dict)


def _sniff_kind(head: bytes) -> str | None:
    """ "image" or "audio" from a file's first bytes (magic numbers), or None."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return Asset.Kind.IMAGE
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"):
            return Asset.Kind.IMAGE
        return Asset.Kind.AUDIO  # M4A and its kin; mutagen decides
    if head.startswith((b"ID3", b"OggS")) or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return Asset.Kind.AUDIO  # an ID3 tag, an Ogg page, an MPEG audio (MP3) or ADTS (AAC) frame
    return None


def _read_upload(upload: UploadedFile) -> Processed:
    """Check an upload by its bytes and turn it into what is stored; MediaRefused if it isn't acceptable."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = _sniff_kind(head)
    if HEAD_MARKUP.search(head[:1024]):
        raise _markup()
    if kind is None:
        raise MediaRefused(
            "This file is not a picture (JPEG, PNG, WebP, HEIC) or a sound (MP3, M4A, Ogg) we can use.",
            code="unsupported_type",
        )
    if upload.size > max_bytes(kind):
        what = "A picture" if kind == Asset.Kind.IMAGE else "A sound file"
        raise MediaRefused(
            f"{what} may be at most {_megabytes(max_bytes(kind))}; this one is {_megabytes(upload.size)}.",
            code="too_large",
        )
    used, allowed = quota()
    if used + upload.size > allowed:
        raise _over_quota(used, allowed)
    if kind == Asset.Kind.IMAGE:
        return _read_image(upload)
    if HEAD_MARKUP.search(head):
        raise _markup()
    return _read_audio(upload)


def _over_quota(used: int, allowed: int) -> MediaRefused:
    return MediaRefused(
        f"The workspace's media would take more than its {_megabytes(allowed)} ({_megabytes(used)} are used); "
        "delete some files first.",
        code="quota_exceeded",
        details={"used_bytes": used, "allowed_bytes": allowed},
    )


def _markup() -> MediaRefused:
    return MediaRefused("This file holds web page markup (HTML or SVG); it is refused.", code="markup")


def _unreadable(kind: str) -> MediaRefused:
    what = "picture" if kind == Asset.Kind.IMAGE else "sound file"
    return MediaRefused(f"This {what} is damaged or incomplete; it could not be read.", code="unreadable")


def _read_image(upload: UploadedFile) -> Processed:
    data = upload.read()
    upload.seek(0)
    if ACTIVE_MARKUP.search(data):
        raise _markup()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS))  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise MediaRefused(
            "This file is not a picture we can use (JPEG, PNG, WebP or HEIC).", code="unsupported_type"
        ) from None
    with image:
        width, height = image.size
        if width < 1 or height < 1 or width * height > settings.MEDIA_MAX_IMAGE_PIXELS:
            raise _too_many_pixels(width, height)
        for text in _image_texts(image):
            if HEAD_MARKUP.search(text):
                raise _markup()
        content_type, extension = IMAGE_FORMATS[image.format]
        try:
            processed = _make_variants(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            raise _unreadable(Asset.Kind.IMAGE) from None
    processed.content_type = content_type
    processed.extension = extension
    return processed


def _too_many_pixels(width: int = 0, height: int = 0) -> MediaRefused:
    limit = settings.MEDIA_MAX_IMAGE_PIXELS / 1_000_000
    size = f" ({width} × {height})" if width else ""
    return MediaRefused(
        f"This picture has too many pixels{size}: at most {limit:g} megapixels.", code="too_many_pixels"
    )


def _image_texts(image: Image.Image) -> list[bytes]:
    """Text a picture carries besides its pixels: PNG text chunks, a JPEG comment."""
    texts = []
    for key, value in list(image.info.items()) + list(getattr(image, "text", {}).items()):
        if "xmp" in key.lower():
            continue
        if key in ("comment", "Comment") or isinstance(value, str):
            texts.append(value.encode("utf-8", "replace") if isinstance(value, str) else bytes(value))
    return texts


def _make_variants(image: Image.Image) -> Processed:
    """The display variants, the thumbnail and the dominant colour of an opened (not yet decoded) picture."""
    raw_width, raw_height = image.size
    turned = image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8)  # a quarter turn: width and height swap
    width, height = (raw_height, raw_width) if turned else (raw_width, raw_height)
    if image.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT, as long as it stays at least as wide as the
        # widest variant: most of a 12 MP photo's decoding and resizing time saved.
        scale = min(max(DISPLAY_WIDTHS), width) / width
        image.draft("RGB", (math.ceil(raw_width * scale), math.ceil(raw_height * scale)))
    icc = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)  # decodes, and turns the pixels as the camera meant
    image = _to_srgb(image, icc)
    image.info = {}  # EXIF (GPS), XMP, comments and the colour profile stay behind: no encoder sees them
    processed = Processed(kind=Asset.Kind.IMAGE, content_type="", extension="", width=width, height=height)
    widths = sorted({min(wanted, width) for wanted in DISPLAY_WIDTHS})
    flat = None
    for wanted in widths:
        scaled = _scaled(image, wanted, round(height * wanted / width))
        flat = _flatten(scaled)
        processed.variants.append(_encode(processed, scaled, "webp", wanted, role="display"))
        processed.variants.append(_encode(processed, flat, "jpg", wanted, role="display"))
    thumb = image.copy()
    thumb.thumbnail(THUMB_BOX, Image.Resampling.LANCZOS)
    processed.variants.append(_encode(processed, thumb, "webp", thumb.width, role="thumb", file="thumb.webp"))
    processed.colour = _dominant_colour(flat)
    processed.variants.sort(key=lambda variant: (variant["role"] != "display", variant["width"], variant["type"]))
    return processed


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """The picture in sRGB colours (what browsers assume of a file without a profile), RGB or RGBA."""
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = image.mode in ("LA", "PA", "RGBa", "La") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, _srgb(), outputMode=image.mode) or image
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the colours as they are
    return image


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _scaled(image: Image.Image, width: int, height: int) -> Image.Image:
    if image.size == (width, height):
        return image
    return image.resize((width, max(height, 1)), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no transparency: see-through parts on white."""
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _encode(processed: Processed, image: Image.Image, extension: str, width: int, *, role: str, file: str = "") -> dict:
    output = io.BytesIO()
    if extension == "webp":
        image.save(output, "WEBP", quality=WEBP_QUALITY, method=4)
        content_type = "image/webp"
    else:
        image.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        content_type = "image/jpeg"
    data = output.getvalue()
    file = file or f"w{width}.{extension}"
    processed.files[file] = (data, content_type)
    return {
        "file": file,
        "role": role,
        "type": content_type,
        "width": image.width,
        "height": image.height,
        "bytes": len(data),
    }


def _dominant_colour(image: Image.Image) -> str:
    """The commonest of a few colours the picture reduces to: what a page shows while the picture loads."""
    small = image.convert("RGB").resize((48, 48), Image.Resampling.BILINEAR)
    palette = small.quantize(colors=6, method=Image.Quantize.MEDIANCUT)
    count, index = max(palette.getcolors())
    red, green, blue = palette.getpalette()[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


AUDIO_TYPES = {  # mutagen's class name: (Content-Type, extension)
    "MP3": ("audio/mpeg", "mp3"),
    "MP4": ("audio/mp4", "m4a"),
    "AAC": ("audio/aac", "aac"),
    "OggOpus": ("audio/ogg", "opus"),
    "OggVorbis": ("audio/ogg", "ogg"),
}


def _read_audio(upload: UploadedFile) -> Processed:
    from mutagen import MutagenError
    from mutagen.aac import AAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    head = upload.read(12)
    upload.seek(0)
    if head.startswith(b"OggS"):
        candidates = (OggOpus, OggVorbis)
    elif head[4:8] == b"ftyp":
        candidates = (MP4,)
    elif head.startswith(b"ID3"):
        candidates = (MP3, AAC)
    elif head[1] & 0xF6 == 0xF0:  # ADTS: 12 sync bits, layer 00
        candidates = (AAC,)
    else:
        candidates = (MP3,)
    for candidate in candidates:
        upload.seek(0)
        try:
            audio = candidate(upload.file)
        except (MutagenError, OSError, ValueError, IndexError, KeyError, EOFError):
            continue
        length = getattr(audio.info, "length", 0) or 0
        if length <= 0 or (candidate is MP4 and not audio.info.codec.startswith(("mp4a", "alac"))):
            continue  # no sound in it, or a codec browsers won't play
        upload.seek(0)
        content_type, extension = AUDIO_TYPES[candidate.__name__]
        return Processed(kind=Asset.Kind.AUDIO, content_type=content_type, extension=extension, duration=length)
    upload.seek(0)
    raise MediaRefused(
        "This file is not a sound we can play (MP3, M4A/AAC, Ogg Opus or Vorbis), or it is damaged.",
        code="unsupported_type",
    )


# Storage ----------------------------------------------------------------------------------------------------


def asset_prefix(key: str, *, schema: str | None = None) -> str:
    """Where an asset's files live in storage."""
    return f"{workspace_prefix(schema)}media/{key}/"


def workspace_prefix(schema: str | None = None) -> str:
    """Where a workspace's files live in storage (its logo too)."""
    return f"workspaces/{schema or connection.schema_name}/"


def _store(processed: Processed, upload: UploadedFile, key: str) -> tuple[str, int]:
    """Write the original and the variants under `key`; the original's file name and the bytes written."""
    prefix = asset_prefix(key)
    original = f"original.{processed.extension}"
    written = []
    total = 0
    try:
        upload.seek(0)
        handle = File(upload.file, name=original)
        handle.content_type = processed.content_type  # never the browser's
        written.append(_save(prefix + original, handle))
        total += upload.size
        for name, (data, content_type) in processed.files.items():
            content = ContentFile(data, name=name)
            content.content_type = content_type
            written.append(_save(prefix + name, content))
            total += len(data)
    except BaseException:
        delete_files(written)
        _delete_asset_files(key, connection.schema_name)  # and the folder, on a file system
        raise
    return original, total


def _save(path: str, content: File) -> str:
    saved = default_storage.save(path, content)
    if saved != path:  # the storage chose another name: it found a file there (keys are random: never)
        default_storage.delete(saved)
        raise RuntimeError(f"Media storage renamed {path} to {saved}")
    return saved


def _delete_asset_files(key: str, schema: str) -> None:
    try:
        delete_prefix(asset_prefix(key, schema=schema))
    except Exception:
        logger.warning("Could not delete the media files of key %s", key, exc_info=True)


# The operations ---------------------------------------------------------------------------------------------


def _lock_quota() -> None:
    """One upload at a time checks and takes the workspace's quota (a lock held until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"media-quota:{connection.schema_name}"])


def add_asset(*, name: str | None, upload: UploadedFile) -> Asset:
    """A new asset from an uploaded file, its variants made and every file stored; MediaRefused if the file or
    the name won't do. Nothing is left behind on any failure: files are written first, then the row; if the row
    can't be written, the files are deleted."""
    if name:
        name = check_name(name)
    processed = _read_upload(upload)
    if not name:
        name = _free_name(clean_name(upload.name or "", extension=processed.extension))
    key = new_media_key()
    original, total = _store(processed, upload, key)
    try:
        with transaction.atomic():
            _lock_quota()
            used, allowed = quota()
            if used + total > allowed:
                raise _over_quota(used, allowed)
            asset = Asset(name=name, key=key)
            _fill(asset, processed, original=original, total=total)
            try:
                with transaction.atomic():
                    asset.save()
            except IntegrityError:
                raise MediaRefused(
                    f"The name “{name}” is in use; choose another or replace that file.", code="name_in_use"
                ) from None
    except BaseException:
        _delete_asset_files(key, connection.schema_name)
        raise
    return asset


def replace_asset(asset: Asset, *, upload: UploadedFile) -> Asset:
    """The asset with a new file of the same kind, under a new key and the same name, so pages that use it show
    the new file; the old files are deleted once the change is committed."""
    processed = _read_upload(upload)
    if processed.kind != asset.kind:
        what = "a picture" if asset.kind == Asset.Kind.IMAGE else "a sound file"
        raise MediaRefused(f"“{asset.name}” is {what}; replace it with {what}.", code="wrong_kind")
    key = new_media_key()
    original, total = _store(processed, upload, key)
    schema = connection.schema_name
    before = {field: getattr(asset, field) for field in REPLACED}
    try:
        with transaction.atomic():
            _lock_quota()
            current = Asset.objects.select_for_update().get(pk=asset.pk)
            used, allowed = quota()
            if used - current.bytes + total > allowed:
                raise _over_quota(used, allowed)
            old_key = current.key
            asset.key = key
            _fill(asset, processed, original=original, total=total)
            asset.save()
            transaction.on_commit(lambda: _delete_asset_files(old_key, schema))
    except BaseException:
        _delete_asset_files(key, schema)
        for field, value in before.items():  # the caller's asset as it was, like its row
            setattr(asset, field, value)
        raise
    return asset


def delete_asset(asset: Asset) -> None:
    """The asset's row, then (once that is committed) its files."""
    key, schema = asset.key, connection.schema_name
    with transaction.atomic():
        asset.delete()
        transaction.on_commit(lambda: _delete_asset_files(key, schema))


REPLACED = ("key", "kind", "original", "content_type", "bytes", "width", "height", "duration", "colour", "variants")


def _fill(asset: Asset, processed: Processed, *, original: str, total: int) -> None:
    asset.kind = processed.kind
    asset.original = original
    asset.content_type = processed.content_type
    asset.bytes = total
    asset.width = processed.width
    asset.height = processed.height
    asset.duration = processed.duration
    asset.colour = processed.colour
    asset.variants = processed.variants


# Serving ----------------------------------------------------------------------------------------------------


def media_origins() -> tuple[str, ...]:
    """The origins (scheme://host[:port]) besides 'self' that pictures and sound load from: the CDN's or the
    bucket's when files are served from S3 (through a redirect), none for the local file system."""
    base = settings.MEDIA_PUBLIC_BASE_URL or (_signed_url_origin() if settings.MEDIA_S3_BUCKET else "")
    if not base:
        return ()
    parts = urlsplit(base)
    return (f"{parts.scheme}://{parts.netloc}",)


@lru_cache(maxsize=1)
def _signed_url_origin() -> str:
    """Where the bucket's signed URLs point (signing needs no request to S3)."""
    return default_storage.url("workspaces/probe")


KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")
FILE = re.compile(r"[a-z0-9]{1,20}\.[a-z0-9]{1,5}")
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 64 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"
# A file is never a page: should a browser ever open one as a document, it runs nothing and reaches nothing.
FILE_CSP = "default-src 'none'; sandbox"


def servable(key: str, file: str) -> tuple[Asset, str] | None:
    """The asset of this workspace with `key` and the Content-Type of its `file`, if that file is served: a
    picture's variants (never its original, whose bytes nobody but Pillow has read), a sound's original."""
    if not KEY.fullmatch(key) or not FILE.fullmatch(file):
        return None
    asset = Asset.objects.filter(key=key).only("kind", "original", "content_type", "variants").first()
    if asset is None:
        return None
    if asset.kind == Asset.Kind.AUDIO:
        return (asset, asset.content_type) if file == asset.original else None
    for variant in asset.variants:
        if variant["file"] == file:
            return asset, variant["type"]
    return None


def file_response(request: HttpRequest, *, key: str, file: str) -> HttpResponse:
    """One of this workspace's media files: a 404 for a key that isn't this workspace's or a file not served.

    From the local file system the file is streamed, with HTTP ranges (phones' audio players seek with them).
    From S3 the answer is a redirect to a signed URL valid for MEDIA_SIGNED_URL_SECONDS (or to the CDN's
    MEDIA_PUBLIC_BASE_URL): the bucket answers ranges itself, no web worker is held while a phone on a slow
    network downloads 50 MB of sound, and the bucket stays private (a URL works for a while, then not).
    """
    found = servable(key, file)
    if found is None:
        raise Http404("No such file.")
    asset, content_type = found
    path = asset_prefix(asset.key) + file
    if settings.MEDIA_S3_BUCKET:
        response = HttpResponseRedirect(default_storage.url(path))
        # The browser may reuse the redirect while the signature holds, with a margin for slow clocks.
        keep = settings.MEDIA_SIGNED_URL_SECONDS // 2 if not settings.MEDIA_PUBLIC_BASE_URL else 31536000
        response["Cache-Control"] = f"private, max-age={keep}"
    else:
        try:
            handle = default_storage.open(path, "rb")
        except FileNotFoundError:
            raise Http404("No such file.") from None
        response = _ranged(request, handle, content_type)
        response["Cache-Control"] = IMMUTABLE
        response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


def _ranged(request: HttpRequest, handle, content_type: str) -> HttpResponse:
    """The whole file, or the one range of bytes the request asks for (206; 416 if it starts past the end).
    Several ranges at once are answered with the whole file, as HTTP allows."""
    size = handle.size
    match = RANGE.fullmatch(request.headers.get("Range", "").replace(" ", ""))
    start, end = 0, size - 1
    if match and (match[1] or match[2]):
        if not match[1]:  # the last n bytes
            start = max(size - int(match[2]), 0)
        else:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        if start >= size or start > end:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        response = StreamingHttpResponse(_chunks(handle, start, end), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(handle, content_type=content_type)
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response


def _chunks(handle, start: int, end: int):
    with handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
