from __future__ import annotations

import base64
import datetime
import hashlib
from dataclasses import MISSING, dataclass, fields
from itertools import zip_longest

from django.contrib import messages
from django.core.exceptions import PermissionDenied, TooManyFilesSent, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

import dap
from accounts.middleware import unavailable
from accounts.permissions import member_required
from accounts.roles import can
from accounts.workspaces import workspace_url
from lib.stale import DATABASE_AWAY
from scans.recording import record_scan
from trails import media
from trails.cards import DEFAULT_CALL_TO_ACTION, LAYOUTS, cards_for_stops
from trails.downloads import CARDS_PER_PDF, card_host, cards_pdf_download, qr_download
from trails.embeds import Embedded, embed
from trails.forms import (
    ACCEPTED_MEDIA,
    STARTER,
    MediaRenameForm,
    MediaReplaceForm,
    MediaUploadForm,
    PrintForm,
    QrOptionsForm,
    TrailEditorForm,
    TranslationPickForm,
    translation_starter,
)
from trails.languages import SCANNER_LANGUAGES, choose_language
from trails.limits import TooManyPreviews, count_preview
from trails.media import media_origins
from trails.models import (
    Asset,
    InvalidDocument,
    MediaNameTaken,
    StaleVersion,
    Stop,
    StopTranslation,
    Trail,
    TrailTranslation,
    assemble,
    normalize_token,
)
from trails.pagecache import page_key, pages
from trails.qr import qr_svg, qr_version

# Scanner pages are the same for everyone: rendered once, kept in each process and shared (trails/pagecache.py).
# Long trails' cards come a page at a time, so no request spends long drawing codes.
CARDS_PER_PAGE = 50
CARDS_PER_PRINT = CARDS_PER_PDF  # the print view draws as many codes as a PDF: under a second of a worker's time
STALE_MESSAGE = (
    "Someone else saved this trail after you opened it. Your text is below, unsaved: "
    "copy what you need, then reload to see their version."
)
# connect-src 'self': the page runs no script, but tools read /robots.txt from within it (Lighthouse's SEO audit).
# Pictures and sound come from this host and, when media is served from S3 or a CDN, its origins (media_origins);
# pictures also from exactly the hosts the page hot-links (trails/embeds.py), computed when the page is rendered.
SCANNER_CSP = (
    "default-src 'none'; style-src 'self'{styles}; img-src 'self'{images}; media-src 'self'{media}; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _scanner_csp(workspace, media: Embedded | None = None) -> str:
    """No scripts at all; styles from our own files, plus the workspace's accent colour and the page's picture
    placeholders by their hashes; pictures and sound from exactly where this page's come from.

    Without `media` (a copy kept by a version that didn't record it), any https: picture, as that version allowed.
    """
    styles = []
    if workspace.accent_css:
        digest = base64.b64encode(hashlib.sha256(workspace.accent_css.encode()).digest()).decode()
        styles.append(f"'sha256-{digest}'")
    origins = media_origins()
    images = list(origins)
    if media is None:
        images += ["https:", "data:"]
    else:
        styles += [media.style_hash] if media.style else []
        images += [origin for origin in media.image_origins if origin not in origins]
    return SCANNER_CSP.format(
        styles="".join(f" {source}" for source in styles),
        images="".join(f" {source}" for source in images),
        media="".join(f" {source}" for source in origins),
    )


NO_MEDIA = Embedded(())


@dataclass(frozen=True, slots=True)
class ScannerPage:
    status: int
    html: str
    stop_id: int | None = None
    trail_id: int | None = None
    language: str = ""  # the language it is in
    languages: tuple[str, ...] = ()  # the trail's, main first: more than one, and each has its own page
    csp: str = ""  # its Content-Security-Policy, made with it (its pictures' hosts); "" in older copies

    def __setstate__(self, state: list) -> None:
        """Last good copies kept on disk by an earlier version lack the fields added since: they take defaults."""
        for field, value in zip_longest(fields(self), state, fillvalue=MISSING):
            object.__setattr__(self, field.name, field.default if value is MISSING else value)


def _scanner_page(request: HttpRequest, token: str) -> ScannerPage:
    """The page in the visitor's language, fresh or from cache; while the database is away its last good copy
    (else DATABASE_AWAY).

    The main language's page says which languages the trail has; each other language's page is kept under
    its own key, so a single-language trail costs one lookup as before.
    """
    schema = connection.schema_name
    page = pages.get(page_key(schema, token), lambda: _render_scanner_page(request, token), keep=_worth_keeping)
    if len(page.languages) < 2:
        return page
    chosen = choose_language(request, page.languages)
    if chosen == page.language:
        return page
    return pages.get(
        page_key(schema, token, chosen),
        lambda: _render_scanner_page(request, token, language=chosen),
        keep=_worth_keeping,
    )


def _missing_page(request: HttpRequest) -> ScannerPage:
    """No card has this token: said in the browser's language, as far as the scanner pages speak it."""
    language = choose_language(request, SCANNER_LANGUAGES)
    context = {"workspace": request.tenant, **_language_context("", language, ())}
    with translation.override(language):
        html = render_to_string("trails/stop_missing.html", context)
    return ScannerPage(404, html, language=language, csp=_scanner_csp(request.tenant, NO_MEDIA))


def _worth_keeping(page: ScannerPage) -> bool:
    return page.stop_id is not None or page.status == 410


def _render_scanner_page(request: HttpRequest, token: str, *, language: str | None = None) -> ScannerPage:
    workspace = request.tenant
    stop = Stop.objects.select_related("trail").filter(token=token).first()
    if stop is None:
        return _missing_page(request)
    trail = stop.trail
    languages = trail.languages()
    language = language if language in languages else trail.language
    # The alternates name the workspace's own address (the one its cards print), whichever host asked first.
    site = workspace_url(request, workspace, "")
    shared = {"workspace": workspace, "trail": trail, **_language_context(token, language, languages, site=site)}
    # Only a trail with translations lists its languages: a single-language trail's page is cached once, as before.
    multilingual = {"language": language, "languages": languages if len(languages) > 1 else ()}
    with translation.override(language):
        if stop.is_retired:
            first = trail.live_stops().first() if trail.is_open else None
            html = render_to_string("trails/stop_retired.html", {**shared, "first": first})
            return ScannerPage(410, html, csp=_scanner_csp(workspace, NO_MEDIA), **multilingual)
        if not trail.is_open:
            html = render_to_string("trails/stop_not_open.html", shared)
            return ScannerPage(404, html, csp=_scanner_csp(workspace, NO_MEDIA), **multilingual)
        previous, following, count = stop.neighbours()
        # The last stop offers the trail again from its start: one more query, once per cached page.
        first = trail.live_stops().first() if following is None and previous is not None else None
        fallback = None
        if language != trail.language:
            fallback = _translate(trail, language, stop=stop, others=[previous, following])
        page = render_stop_html(
            workspace=workspace,
            trail=trail,
            stop=stop,
            number=stop.position,
            count=count,
            previous=previous,
            next=following,
            first=first,
            extra={**shared, "fallback": fallback},
        )
    csp = _scanner_csp(workspace, page.media)
    return ScannerPage(200, page.html, stop_id=stop.pk, trail_id=trail.pk, csp=csp, **multilingual)


def _language_context(token: str, language: str, languages: tuple[str, ...], *, site: str = "") -> dict:
    """What the page needs to read in `language` and lead to the trail's other languages.

    `site` (scheme and host) makes the hreflang alternates whole URLs, as search engines want them; the
    switcher's links stay on the host the visitor came to.
    """
    info = dap.language(language)
    context = {"page_language": language, "direction": info.direction}
    if info.rtl:
        context["arrows"] = ("→", "←")  # previous points right, next left
    if len(languages) > 1:
        context["lang_query"] = f"?lang={language}"
        context["alternates"] = [
            {
                "tag": tag,
                "name": dap.language(tag).name,
                "url": f"/qr/{token}?lang={tag}",
                "canonical": f"{site}/qr/{token}?lang={tag}",
                "current": tag == language,
            }
            for tag in languages
        ]
    return context


def _translate(trail: Trail, language: str, *, stop: Stop, others: list[Stop | None]) -> dap.Language | None:
    """Give `trail`, `stop` and its neighbours their titles and text in `language` (in memory, never saved).

    Returns the main language when `stop` itself has no translation and is shown in it, else None.
    """
    found = TrailTranslation.objects.filter(trail=trail, language=language).first()
    if found is None:
        return dap.language(trail.language)
    trail.title, trail.intro_html = found.title, found.intro_html
    shown = [one for one in (stop, *others) if one is not None]
    translated = {
        part.key: part for part in StopTranslation.objects.filter(translation=found, key__in=[s.key for s in shown])
    }
    for one in shown:
        if part := translated.get(one.key):
            one.title = part.title
            if one is stop:
                one.html, one.excerpt = part.html, part.excerpt
    return None if stop.key in translated else dap.language(trail.language)


@dataclass(frozen=True)
class RenderedStop:
    html: str
    media: Embedded  # what the page's policy must allow for its media


def render_stop_html(
    *,
    workspace,
    trail: Trail,
    stop: Stop,
    number: int,
    count: int,
    previous: Stop | None,
    next: Stop | None,
    first: Stop | None = None,
    extra: dict | None = None,
) -> RenderedStop:
    """A stop's scanner page: used for real scans and for the editor's preview alike.

    The last stop (no `next`) says the trail is complete and offers `first` (the trail's start again,
    if it isn't this stop) and the workspace's website. The first stop shows the trail's intro. Pictures
    and audio come from the workspace's library, in one query (trails/embeds.py).
    """
    intro = trail.intro_html if number == 1 else ""
    media = embed(intro, stop.html)
    intro_html, article_html = media.parts
    context = {
        "first": first,
        "workspace": workspace,
        "trail": trail,
        "stop": stop,
        "number": number,
        "count": count,
        "previous": previous,
        "next": next,
        "intro_html": intro_html,
        "article_html": article_html,
        "media_style": media.style,
        **(extra or {}),
    }
    return RenderedStop(render_to_string("trails/stop.html", context), media)


@require_safe
def stop_page(request: HttpRequest, token: str) -> HttpResponse:
    """The page a phone lands on when it scans a card. Tokens match in any case."""
    canonical = normalize_token(token)
    if canonical is None:
        page = _missing_page(request)
    else:
        try:
            page = _scanner_page(request, canonical)
        except DATABASE_AWAY:  # and this page was never seen: logged once, by the outage
            return unavailable()
    if page.stop_id is not None:
        record_scan(stop_id=page.stop_id, trail_id=page.trail_id, request=request, language=page.language)
    response = HttpResponse(page.html, status=page.status)
    # The same address answers in the visitor's language: shared caches must keep one copy per language asked.
    response["Vary"] = "Accept-Language"
    # Each visit must reach us to be counted; the CSS is what gets cached.
    response["Cache-Control"] = "no-cache, private"
    response["Content-Security-Policy"] = page.csp or _scanner_csp(request.tenant)
    # The page skips the middleware that would say so (trails/middleware.py); its CSP forbids framing too.
    response["X-Frame-Options"] = "DENY"
    return response


@require_safe
def media_file(request: HttpRequest, key: str, file: str) -> HttpResponse:
    """A picture variant or a sound of this workspace's media library, for scanner pages and the dashboard alike:
    public to whoever has the URL (its key is 128 random bits), a 404 on any other workspace's host."""
    return media.file_response(request, key=key, file=file)


# The dashboard -------------------------------------------------------------------------------------------


def _get_trail_for_member(request: HttpRequest, pk: int) -> Trail:
    """A live trail of this workspace (the schema is the workspace's, so no other workspace's trail can match)."""
    return get_object_or_404(Trail.objects.live(), pk=pk)


@require_GET
@member_required("view_trails")
def trail_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    archived = request.GET.get("show") == "archived"
    trails = Trail.objects.live()
    trails = trails.filter(status=Trail.Status.ARCHIVED) if archived else trails.exclude(status=Trail.Status.ARCHIVED)
    if query:
        trails = trails.filter(title__icontains=query)
    week_ago = timezone.now() - datetime.timedelta(days=7)
    trails = trails.with_counts(scans_since=week_ago).order_by("-updated_at")
    context = {"section": "trails", "trails": trails, "query": query, "archived": archived}
    template = (
        "trails/_trail_rows.html" if request.htmx and request.htmx.target == "trail-rows" else "trails/trail_list.html"
    )
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@member_required("edit_trails")
def trail_create(request: HttpRequest) -> HttpResponse:
    form = TrailEditorForm(request.POST or None, initial={"source": STARTER})
    if request.method == "POST" and form.is_valid():
        try:
            trail = Trail.create_from_markdown(form.cleaned_data["source"])
        except InvalidDocument as error:
            form.add_document_errors(error.assembly)
        else:
            messages.success(request, f"Created “{trail.title}” with {trail.live_stops().count()} stops.")
            return redirect("trails:trail-edit", pk=trail.pk)
    return render(request, "trails/trail_create.html", {"section": "trails", "form": form})


@require_http_methods(["GET", "POST"])
@member_required("view_trails")
def trail_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trail = _get_trail_for_member(request, pk)
    may_edit = can(request.membership.role, "edit_trails")
    assembly = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Your role can't edit trails.")
        form = TrailEditorForm(request.POST)
        version = trail.version
        if form.is_valid():
            saved, assembly = _save_document(form, trail)
            if saved:
                if trail.version == version:
                    messages.info(request, f"Nothing changed since version {version}: nothing to save.")
                else:
                    messages.success(request, f"Saved. {trail.live_stops().count()} stops, version {trail.version}.")
                return redirect("trails:trail-edit", pk=trail.pk)
    else:
        form = TrailEditorForm(initial={"source": trail.source, "version": trail.version}, readonly=not may_edit)
    source = form["source"].value() or ""
    form.write_in(trail.language)
    context = {
        "section": "trails",
        "trail": trail,
        "form": form,
        "may_edit": may_edit,
        **_languages_context(trail, current=trail.language, may_edit=may_edit),
        **_preview_context(request, source, trail=trail, selected=0, assembly=assembly),
    }
    return render(request, "trails/trail_edit.html", context)


def _save_document(form: TrailEditorForm, document: Trail | TrailTranslation) -> tuple[bool, dap.Assembly | None]:
    """Save the editor's valid form into `document` (a trail or one of its translations).

    Returns (saved, the assembly whose errors the form now shows); a stale version is a form error too.
    """
    try:
        document.set_source(form.cleaned_data["source"], expected_version=form.cleaned_data["version"])
    except StaleVersion:
        form.add_error(None, ValidationError(STALE_MESSAGE, code="stale"))
    except InvalidDocument as error:
        form.add_document_errors(error.assembly)
        return False, error.assembly
    else:
        return True, None
    return False, None


def _preview_context(
    request: HttpRequest,
    source: str,
    *,
    trail: Trail | None,
    selected: int,
    assembly: dap.Assembly | None = None,
    language: str | None = None,
) -> dict:
    """The assembled document, its diagnostics and the scanner page of one of its stops, unsaved."""
    assembly = assembly or assemble(source)
    tokens = {stop.key: stop.token for stop in trail.stops.all()} if trail else {}
    preview_trail = Trail(
        title=assembly.title, theme=assembly.theme, language=assembly.language, intro_html=assembly.intro_html
    )
    stops = [
        Stop(key=part.id, title=part.title, html=part.html, token=tokens.get(part.id, "NEWSTOP2"))
        for part in assembly.stops
    ]
    selected = min(max(selected, 0), max(len(stops) - 1, 0))
    page = ""
    if stops:
        with translation.override(language or assembly.language):
            rendered = render_stop_html(
                workspace=request.tenant,
                trail=preview_trail,
                stop=stops[selected],
                number=selected + 1,
                count=len(stops),
                previous=stops[selected - 1] if selected > 0 else None,
                next=stops[selected + 1] if selected + 1 < len(stops) else None,
                first=stops[0] if selected > 0 else None,
                extra=_language_context("", language or assembly.language, ()),
            )
        page = rendered.html
        # The phone is a srcdoc frame, under this page's policy (qrcards/middleware.py): it must allow the
        # pictures' placeholders and the sound's hosts too.
        request.csp_style_sources = [rendered.media.style_hash] if rendered.media.style else []  # type: ignore[attr-defined]
        request.csp_media_origins = media_origins()  # type: ignore[attr-defined]
    return {"assembly": assembly, "preview_stops": stops, "selected": selected, "preview_page": page}


def _paused_preview(request: HttpRequest) -> HttpResponse | None:
    """Count one preview for this person (trails/limits.py); past the limit, the fragment that says so (a 429)."""
    try:
        count_preview(request)
    except TooManyPreviews:
        response = render(request, "trails/_preview_paused.html", status=429)
        response["Retry-After"] = str(TooManyPreviews.retry_after)
        return response
    return None


@require_POST
@member_required("view_trails")
def trail_preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: assembled as you type, nothing saved."""
    if paused := _paused_preview(request):
        return paused
    source = request.POST.get("source", "")
    try:
        selected = int(request.POST.get("preview_stop", "0"))
    except ValueError:
        selected = 0
    trail = None
    if trail_pk := request.POST.get("trail", ""):
        trail = Trail.objects.live().filter(pk=int(trail_pk)).first() if trail_pk.isdigit() else None
    return render(request, "trails/_preview.html", _preview_context(request, source, trail=trail, selected=selected))


def _trail_action(request: HttpRequest, pk: int, action: str, message: str) -> HttpResponse:
    trail = _get_trail_for_member(request, pk)
    result = getattr(trail, action)()
    messages.success(request, message.format(title=trail.title))
    target = result if isinstance(result, Trail) else trail
    if target.status == Trail.Status.ARCHIVED or target.deleted_at:
        return redirect("trails:trail-list")
    return redirect("trails:trail-edit", pk=target.pk)


@require_POST
@member_required("edit_trails")
def trail_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _trail_action(request, pk, "publish", "“{title}” is published: its cards open.")


@require_POST
@member_required("edit_trails")
def trail_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    return _trail_action(request, pk, "unpublish", "“{title}” is a draft again: its cards say “not yet open”.")


@require_POST
@member_required("edit_trails")
def trail_archive(request: HttpRequest, pk: int) -> HttpResponse:
    return _trail_action(request, pk, "archive", "“{title}” is archived: its cards say the trail has closed.")


@require_POST
@member_required("edit_trails")
def trail_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    return _trail_action(request, pk, "duplicate", "Made a draft copy of “{title}” with new cards.")


@require_http_methods(["GET", "POST"])
@member_required("edit_trails")
def trail_delete(request: HttpRequest, pk: int) -> HttpResponse:
    trail = _get_trail_for_member(request, pk)
    if request.method == "POST":
        trail.delete_softly()
        messages.success(request, f"Deleted “{trail.title}”. Its printed cards now lead to a “moved on” page.")
        return redirect("trails:trail-list")
    return render(request, "trails/trail_delete.html", {"section": "trails", "trail": trail})


@require_safe
def stop_finder(request: HttpRequest) -> HttpResponse:
    """The workspace host's front page: the code printed under a card's QR code leads to its stop.

    For people who can't scan. The code may be typed in any case, with or without its space.
    """
    typed = request.GET.get("code", "")[:40]
    error = ""
    if typed:
        token = normalize_token("".join(typed.split()).replace("-", ""))
        if token is not None and Stop.objects.filter(token=token).exists():
            return redirect("trails:stop-page", token)
        error = "No card here has that code. Check its eight letters and numbers and try again."
    context = {"workspace": request.tenant, "typed": typed, "error": error}
    return render(request, "trails/stop_finder.html", context, status=404 if error else 200)


# Translations ----------------------------------------------------------------------------------------------


def _languages_context(trail: Trail, *, current: str, may_edit: bool) -> dict:
    """The language tabs beside the editor: the main document, each translation with how complete it is."""
    translations = list(trail.translations.all())
    tabs = [{"language": dap.language(trail.language), "main": True, "current": current == trail.language}]
    if translations:
        keys = list(trail.live_stops().values_list("key", flat=True))
        done = dict(
            StopTranslation.objects.filter(translation__trail=trail, key__in=keys)
            .values("translation")
            .annotate(n=Count("pk"))
            .values_list("translation", "n")
        )
        for one in translations:
            report = dap.TranslationReport(one.info, translated=done.get(one.pk, 0), total=len(keys), diagnostics=())
            # The main document's front matter may have moved to this language since: then this is never shown.
            hidden = one.language.lower() == trail.language.lower()
            tabs.append({"language": one.info, "report": report, "current": current == one.language, "hidden": hidden})
    taken = (trail.language, *(one.language for one in translations))
    return {"language_tabs": tabs, "pick_form": TranslationPickForm(taken=taken) if may_edit else None}


def _get_translation(trail: Trail, language: str) -> TrailTranslation:
    """The trail's translation into `language`, or a new unsaved one if `language` is one we offer."""
    found = trail.translations.filter(language__iexact=language[:16]).first()
    if found is not None:
        return found
    info = dap.language(language)
    if language == trail.language or info not in dap.LANGUAGES:
        raise Http404("No such language.")
    return TrailTranslation(trail=trail, language=info.tag, source=translation_starter(trail.source, info.tag))


@require_GET
@member_required("edit_trails")
def translation_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Add a language" picker: on to the new translation's editor."""
    trail = _get_trail_for_member(request, pk)
    form = TranslationPickForm(request.GET, taken=trail.languages())
    if not form.is_valid():
        messages.error(request, "Choose a language the trail doesn't have yet.")
        return redirect("trails:trail-edit", pk=trail.pk)
    return redirect("trails:translation-edit", pk=trail.pk, language=form.cleaned_data["language"])


@require_http_methods(["GET", "POST"])
@member_required("view_trails")
def translation_edit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """One translation of a trail as its own Markdown document; saved, its stops go live by id at once."""
    trail = _get_trail_for_member(request, pk)
    found = _get_translation(trail, language)
    may_edit = can(request.membership.role, "edit_trails")
    assembly = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Your role can't edit trails.")
        form = TrailEditorForm(request.POST)
        if form.is_valid():
            saved, assembly = _save_document(form, found)
            if saved:
                report = found.report()
                messages.success(request, f"Saved. {report.summary}, version {found.version}.")
                return redirect("trails:translation-edit", pk=trail.pk, language=found.language)
    else:
        initial = {"source": found.source, "version": found.version if found.pk else None}
        form = TrailEditorForm(initial=initial, readonly=not may_edit)
    form.write_in(found.language)
    source = form["source"].value() or ""
    context = {
        "section": "trails",
        "trail": trail,
        "translation": found,
        "form": form,
        "may_edit": may_edit,
        **_languages_context(trail, current=found.language, may_edit=may_edit),
        **_translation_preview_context(request, source, translation=found, selected=0, assembly=assembly),
    }
    return render(request, "trails/translation_edit.html", context)


def _translation_preview_context(
    request: HttpRequest,
    source: str,
    *,
    translation: TrailTranslation,
    selected: int,
    assembly: dap.Assembly | None = None,
) -> dict:
    """The translation's own diagnostics, how it stands against the main document, and its scanner page."""
    assembly = assembly or assemble(source)
    context = _preview_context(
        request, source, trail=translation.trail, selected=selected, assembly=assembly, language=translation.language
    )
    return {**context, "report": translation.report(assembly), "translation": translation}


@require_POST
@member_required("view_trails")
def translation_preview(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """The translation editor's live preview: assembled and compared as you type, nothing saved."""
    if paused := _paused_preview(request):
        return paused
    trail = _get_trail_for_member(request, pk)
    found = _get_translation(trail, language)
    try:
        selected = int(request.POST.get("preview_stop", "0"))
    except ValueError:
        selected = 0
    source = request.POST.get("source", "")[: dap.MAX_DOCUMENT_BYTES + 1]
    context = _translation_preview_context(request, source, translation=found, selected=selected)
    return render(request, "trails/_translation_preview.html", context)


@require_POST
@member_required("edit_trails")
def translation_delete(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    trail = _get_trail_for_member(request, pk)
    found = get_object_or_404(trail.translations, language__iexact=language[:16])
    found.delete()
    messages.success(request, f"Removed the {found.info.english} translation; its cards show the main language.")
    return redirect("trails:trail-edit", pk=trail.pk)


# QR codes and printable cards ------------------------------------------------------------------------------


@require_GET
@member_required("view_trails")
def trail_cards(request: HttpRequest, pk: int) -> HttpResponse:
    """The trail's QR codes: options, a download per stop, the print view and the PDF."""
    trail = _get_trail_for_member(request, pk)
    form = QrOptionsForm.from_query(request.GET)
    # A page at a time: drawing a code takes ~6 ms, and a trail may have hundreds.
    page = Paginator(trail.live_stops(), CARDS_PER_PAGE).get_page(request.GET.get("page"))
    scheme, host = card_host(request, stops=page)
    codes = []
    if form.is_valid():
        for number, stop in enumerate(page, start=page.start_index()):
            url = stop.qr_url(host=host, scheme=scheme)
            codes.append({"stop": stop, "number": number, "url": url, "svg": qr_svg(url, form.options)})
    version = None
    if codes:
        version = qr_version(codes[0]["url"], form.options.error_correction)
    options = request.GET.copy()
    options.pop("page", None)
    context = {
        "section": "trails",
        "trail": trail,
        "form": form,
        "codes": codes,
        "page": page,
        "version": version,
        "query": options.urlencode(),
        "print_form": PrintForm(initial={"paper": "A4"}),
        "pdf_files": _pdf_files(page.paginator.count),
        "call_to_action": trail.call_to_action or DEFAULT_CALL_TO_ACTION,
        "call_to_action_limit": dap.MAX_CALL_TO_ACTION_CHARS,
    }
    return render(request, "trails/trail_cards.html", context)


def _pdf_files(count: int) -> list[tuple[int, int, int]]:
    """(file number, first card, last card) of each PDF a trail of `count` cards comes in, when more than one."""
    if count <= CARDS_PER_PDF:
        return []
    return [
        (number, start + 1, min(start + CARDS_PER_PDF, count))
        for number, start in enumerate(range(0, count, CARDS_PER_PDF), start=1)
    ]


@require_GET
@member_required("view_trails")
def stop_qr(request: HttpRequest, pk: int, stop_pk: int, fmt: str) -> HttpResponse:
    """One stop's QR code as an SVG or PNG download; bad options are a 400 that says what's wrong."""
    trail = _get_trail_for_member(request, pk)
    stop = get_object_or_404(trail.live_stops(), pk=stop_pk)
    form = QrOptionsForm.from_query(request.GET)
    if not form.is_valid():
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(
            f"Can't make this QR code: {problems}", status=400, content_type="text/plain; charset=utf-8"
        )
    return qr_download(request, trail=trail, stop=stop, options=form.options, fmt=fmt)


@require_GET
@member_required("view_trails")
def trail_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The trail's cards as a page to print from the browser (the PDF is the same cards, ready-made)."""
    trail = _get_trail_for_member(request, pk)
    form = PrintForm(request.GET or None)
    paper = form.cleaned_data["paper"] if form.is_valid() else "A4"
    page = Paginator(trail.live_stops(), CARDS_PER_PRINT).get_page(request.GET.get("page"))
    scheme, host = card_host(request, stops=page)
    cards = cards_for_stops(
        host=host,
        scheme=scheme,
        trail_title=trail.title,
        stops=page,
        first=page.start_index(),
        count=page.paginator.count,
        call_to_action=trail.call_to_action,
        languages=trail.printed_languages(),
    )
    options = request.GET.copy()
    options.pop("page", None)
    context = {
        "trail": trail,
        "cards": [(card, qr_svg(card.url)) for card in cards],
        "paper": paper,
        "layout": LAYOUTS[paper],
        "workspace": request.tenant,
        "page": page,
        "query": options.urlencode(),
    }
    return render(request, "trails/trail_print.html", context)


@require_GET
@member_required("view_trails")
def trail_cards_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    trail = _get_trail_for_member(request, pk)
    form = PrintForm(request.GET or None)
    if request.GET and not form.is_valid():
        choices = ", ".join(LAYOUTS)
        return HttpResponse(f"Paper must be one of {choices}.", status=400, content_type="text/plain; charset=utf-8")
    paper = form.cleaned_data["paper"] if form.is_bound else "A4"
    crop_marks = form.cleaned_data["crop_marks"] if form.is_bound else False
    # A long trail's cards come a file at a time (the cards page offers each), so no request draws hundreds.
    page = Paginator(trail.live_stops(), CARDS_PER_PDF).get_page(request.GET.get("page"))
    return cards_pdf_download(
        request,
        trail=trail,
        paper=paper,
        crop_marks=crop_marks,
        stops=list(page),
        first=page.start_index() or 1,
        count=page.paginator.count,
    )


# The media library -----------------------------------------------------------------------------------------


LISTED_USES = 3
# A page of the library at a time: each file is a few links to draw.
ASSETS_PER_PAGE = 60


def _get_asset_for_member(request: HttpRequest, pk: int) -> Asset:
    """An asset of this workspace (the schema is the workspace's, so no other workspace's asset can match)."""
    return get_object_or_404(Asset, pk=pk)


def _wants_json(request: HttpRequest) -> bool:
    """The upload script asks for JSON (one file a request, for its progress bars); a plain form gets pages."""
    return "application/json" in request.headers.get("Accept", "")


def _media_error(status: int, code: str, message: str, *, file: str | None = None) -> JsonResponse:
    """The API's error shape, naming the file it is about."""
    details = {"file": file} if file is not None else None
    return JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)


def _media_json(asset: Asset) -> dict:
    reference, placeholder = asset.reference()
    return {
        "id": asset.pk,
        "name": asset.name,
        "kind": asset.kind,
        "bytes": asset.bytes,
        "thumb": asset.thumb_url(),
        "reference": reference,
        "placeholder": placeholder,
    }


def _library_context(request: HttpRequest) -> dict:
    page = Paginator(Asset.objects.all(), ASSETS_PER_PAGE).get_page(request.GET.get("page"))
    assets = list(page)
    # Every live document read once (one LIKE per name in SQL would cost more than the regular expression does).
    usage = Asset.objects.usage() if assets else {}
    for asset in assets:
        # A few of its uses each: the page stays quick when every picture is in every trail (its own page has all).
        uses = usage.get(asset.name, [])
        asset.uses, asset.more_uses = uses[:LISTED_USES], max(0, len(uses) - LISTED_USES)
    used, allowed = media.quota()
    return {
        "section": "media",
        "assets": assets,
        "page": page,
        "used": used,
        "allowed": allowed,
        "percent": min(100, round(100 * used / allowed)) if allowed else 0,
        "max_files": media.max_files_per_upload(),
    }


@require_GET
@member_required("view_media")
def media_library(request: HttpRequest) -> HttpResponse:
    """Every picture and sound of the workspace, where each is used, and the quota; the upload form for editors."""
    context = {**_library_context(request), "form": MediaUploadForm()}
    if request.htmx and request.htmx.target == "media-library" and not request.htmx.history_restore_request:
        return render(request, "trails/_media_library.html", context)
    return render(request, "trails/media_library.html", context)


@require_POST
@member_required("edit_media")
def media_upload(request: HttpRequest) -> HttpResponse:
    """Store each file sent; each refused one is named with its reason, and the others are kept.

    The upload script sends one file a request and reads JSON; the plain form sends them all and is sent back
    to the library with a message per file.
    """
    try:
        form = MediaUploadForm(request.POST, request.FILES)
        valid = form.is_valid()
    except TooManyFilesSent:
        valid, form = False, None
    if not valid:
        message = form.errors["files"][0] if form is not None and "files" in form.errors else None
        most = media.max_files_per_upload()
        message = message or f"Too many files at once: upload at most {most}. Nothing was uploaded."
        if _wants_json(request):
            return _media_error(400, "invalid", message)
        messages.error(request, message)
        return redirect("trails:media-library")
    stored, refused = [], []
    for upload in form.cleaned_data["files"]:
        try:
            stored.append(media.add_asset(name=None, upload=upload))
        except media.MediaRefused as refusal:
            refused.append((upload.name, refusal))
    if _wants_json(request):
        if refused:
            name, refusal = refused[0]
            status = 413 if refusal.code in ("too_large", "too_many_pixels", "quota_exceeded") else 400
            return _media_error(status, refusal.code, str(refusal), file=name)
        return JsonResponse({"assets": [_media_json(asset) for asset in stored]}, status=201)
    if stored:
        names = ", ".join(f"“{asset.name}”" for asset in stored)
        messages.success(request, f"Uploaded {names}.")
    for name, refusal in refused:
        messages.error(request, f"“{name}” was not uploaded: {refusal}")
    return redirect("trails:media-library")


def _asset_context(request: HttpRequest, asset: Asset, **forms) -> dict:
    return {
        "section": "media",
        "asset": asset,
        "uses": asset.used_by(),
        "thumb": asset.thumb_url(),
        "rename_form": forms.get("rename_form") or MediaRenameForm(initial={"name": asset.name}, asset=asset),
        "replace_form": forms.get("replace_form") or MediaReplaceForm(),
        "accept": ACCEPTED_MEDIA,
    }


@require_GET
@member_required("view_media")
def media_detail(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _get_asset_for_member(request, pk)
    return render(request, "trails/media_detail.html", _asset_context(request, asset))


@require_POST
@member_required("edit_media")
def media_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """A new name, and every document that used the old one rewritten to the new (a new version of each)."""
    asset = _get_asset_for_member(request, pk)
    form = MediaRenameForm(request.POST, asset=asset)
    if form.is_valid():
        old = asset.name
        try:
            rewritten = asset.rename(form.cleaned_data["name"])
        except MediaNameTaken:
            form.add_error("name", ValidationError("Another file took this name just now: choose another.", "taken"))
        except (InvalidDocument, StaleVersion) as error:
            asset.name = old
            problem = f"Not renamed: a trail that uses it could not be rewritten ({error})."
            form.add_error(None, ValidationError(problem, code="rewrite"))
        else:
            if asset.name != old:
                count = len(rewritten)
                also = f", and rewrote the {count} document{pluralize(count)} that use it" if count else ""
                messages.success(request, f"Renamed “{old}” to “{asset.name}”{also}.")
            return redirect("trails:media-detail", pk=asset.pk)
    asset.name = asset.__class__.objects.values_list("name", flat=True).get(pk=asset.pk)
    return render(request, "trails/media_detail.html", _asset_context(request, asset, rename_form=form), status=400)


@require_POST
@member_required("edit_media")
def media_replace(request: HttpRequest, pk: int) -> HttpResponse:
    """A new file under the same name: every page showing the old one shows the new one."""
    asset = _get_asset_for_member(request, pk)
    form = MediaReplaceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            asset = media.replace_asset(asset, upload=form.cleaned_data["file"])
        except media.MediaRefused as refusal:
            form.add_error("file", ValidationError(f"“{form.cleaned_data['file'].name}”: {refusal}", refusal.code))
        else:
            messages.success(request, f"Replaced “{asset.name}”: pages that show it show the new file.")
            return redirect("trails:media-detail", pk=asset.pk)
    return render(request, "trails/media_detail.html", _asset_context(request, asset, replace_form=form), status=400)


@require_http_methods(["GET", "POST"])
@member_required("edit_media")
def media_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an asset no trail uses; while one does, say which and refuse (a page would lose its picture)."""
    asset = _get_asset_for_member(request, pk)
    uses = asset.used_by()
    if request.method == "POST" and not uses:
        media.delete_asset(asset)
        messages.success(request, f"Deleted “{asset.name}”.")
        return redirect("trails:media-library")
    context = {"section": "media", "asset": asset, "uses": uses, "thumb": asset.thumb_url()}
    status = 409 if uses and request.method == "POST" else 200
    return render(request, "trails/media_delete.html", context, status=status)
