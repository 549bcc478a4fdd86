"""What the dashboard and the API both hand out for a trail: card URLs and QR code downloads."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify

from accounts.models import Customer, PrintedCard
from accounts.workspaces import on_request_port
from trails.cards import Branding
from trails.models import Stop, Trail
from trails.qr import QrOptions, qr_png, qr_svg


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


def qr_download(request: HttpRequest, *, trail: Trail, stop: Stop, options: QrOptions, fmt: str) -> HttpResponse:
    """A stop's QR code as an SVG or PNG attachment named after the trail, the stop's number and its token."""
    scheme, host = card_host(request, stops=[stop])
    url = stop.qr_url(host=host, scheme=scheme)
    if fmt == "svg":
        response = HttpResponse(qr_svg(url, options), content_type="image/svg+xml")
    else:
        response = HttpResponse(qr_png(url, options), content_type="image/png")
    filename = f"{file_slug(trail.title)}-{stop.position:02d}-{stop.token}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
