"""What the dashboard and the API both hand out for a trail: card URLs and QR code downloads."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence

from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify

from accounts.models import Customer, PrintedCard
from accounts.workspaces import on_request_port
from trails.cards import Branding, cards_for_stops, cards_pdf
from trails.models import Stop, Trail
from trails.qr import QrOptions, qr_png, qr_svg

# A long trail's cards come in files of 48 (six A4 sheets of eight): drawing a card takes ~5 ms, so one file is
# a fraction of a second of a worker's time however long the trail, in the dashboard and the API alike.
CARDS_PER_PDF = 48


def card_host(request: HttpRequest, *, stops: Iterable[Stop]) -> tuple[str, str]:
    """(scheme, host) for the URLs on the cards of `stops`: the domain the workspace prints, on this request's port.

    Handing those URLs out (a page of cards, a print, a PDF, a download, the API) counts as printing the
    cards with that domain, and is recorded: tokens are forever, and so is the domain printed on a card,
    so the settings page won't let the domain go without saying how many cards it would strand.
    """
    workspace = request.tenant
    domain = workspace.card_domain
    if domain is not None:
        PrintedCard.objects.record(domain=domain, tokens=[stop.token for stop in stops])
    return request.scheme, on_request_port(request, workspace.primary_host)


def card_branding(workspace: Customer) -> Branding:
    """The workspace's name, accent colour and logo, as its printed cards show them."""
    logo = None
    if workspace.logo:
        try:
            with workspace.logo.open("rb") as file:
                logo = file.read()
        except OSError:  # a file gone from storage: the cards print without it
            logo = None
    return Branding(name=workspace.name, accent=workspace.accent_colour, logo=logo)


def file_slug(text: str) -> str:
    return slugify(text)[:40] or "trail"


def cards_pdf_download(
    request: HttpRequest,
    *,
    trail: Trail,
    paper: str = "A4",
    crop_marks: bool = False,
    stops: Sequence[Stop] | None = None,
    first: int = 1,
    count: int | None = None,
) -> HttpResponse:
    """The trail's printable cards as a PDF attachment: every live stop's, or `stops`, numbered from `first`
    of `count` (a page of a long trail)."""
    stops = list(trail.live_stops()) if stops is None else stops
    scheme, host = card_host(request, stops=stops)
    cards = cards_for_stops(
        host=host,
        scheme=scheme,
        trail_title=trail.title,
        stops=stops,
        first=first,
        count=count,
        call_to_action=trail.call_to_action,
        languages=trail.printed_languages(),
    )
    pdf = cards_pdf(
        cards=cards,
        paper=paper,
        crop_marks=crop_marks,
        title=f"{trail.title}: QR cards",
        branding=card_branding(request.tenant),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    # A file of a longer trail says which cards it holds, so the files of one trail don't overwrite each other.
    part = f"-{first}-{first + len(stops) - 1}" if count and count > len(stops) else ""
    name = f"{file_slug(trail.title)}-cards-{paper.lower()}{part}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def qr_zip_download(
    request: HttpRequest, *, trail: Trail, options: QrOptions, fmt: str, stops: Sequence[Stop] | None = None
) -> HttpResponse:
    """Every live stop's QR code (or `stops`') as SVG or PNG, in a ZIP named after the trail; each file is
    named as qr_download names it, so the two can be told apart in a folder."""
    stops = list(trail.live_stops()) if stops is None else stops
    scheme, host = card_host(request, stops=stops)
    buffer = io.BytesIO()
    # PNGs are compressed already; SVGs are text and shrink well.
    compression = zipfile.ZIP_STORED if fmt == "png" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for stop in stops:
            url = stop.qr_url(host=host, scheme=scheme)
            image = qr_svg(url, options) if fmt == "svg" else qr_png(url, options)
            archive.writestr(_qr_filename(trail, stop, fmt), image)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{file_slug(trail.title)}-qr-{fmt}.zip"'
    return response


def _qr_filename(trail: Trail, stop: Stop, fmt: str) -> str:
    return f"{file_slug(trail.title)}-{stop.position:02d}-{stop.token}.{fmt}"


def qr_download(request: HttpRequest, *, trail: Trail, stop: Stop, options: QrOptions, fmt: str) -> HttpResponse:
    """A stop's QR code as an SVG or PNG attachment named after the trail, the stop's number and its token."""
    scheme, host = card_host(request, stops=[stop])
    url = stop.qr_url(host=host, scheme=scheme)
    if fmt == "svg":
        response = HttpResponse(qr_svg(url, options), content_type="image/svg+xml")
    else:
        response = HttpResponse(qr_png(url, options), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{_qr_filename(trail, stop, fmt)}"'
    return response
