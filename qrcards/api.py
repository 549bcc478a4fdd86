"""The REST API at /api/v1/ on workspace hosts: who may call it, how often, and how errors look.

The endpoints live beside their models (trails/api.py, scans/api.py, with the field types they
share in qrcards/api_fields.py); this module joins them into one NinjaAPI with its OpenAPI schema
at /api/v1/openapi.json and docs at /api/v1/docs.

Every request is checked in this order:
1. body size (413, before the body is read),
2. who is calling: an API key of *this* workspace (`Authorization: Bearer qrc_…`, or
   `X-API-Key: qrc_…`) or a logged-in member of it using the dashboard's session (401
   otherwise); a client network that sent too many wrong keys gets 429 before its key is looked at,
3. the caller's rate limit (429 with Retry-After),
4. whether the caller may write, for POST, PUT, PATCH and DELETE (403 otherwise),
5. a POST's Idempotency-Key: the first answer again for a retry, 409 for the key on another request.

Every error answer has the same shape: `{"error": {"code", "message", "details"}}`, and invalid values,
wherever they are, the same details: a list of {"loc", "message", "type"}. Every answer after
authentication carries the caller's RateLimit-* headers; every successful read an ETag (304 for
If-None-Match). The OpenAPI schema is post-processed here: each operation's error codes with examples,
those headers, links between operations, and public names instead of Python's.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.cache import get_conditional_response, set_response_etag
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from accounts.models import ApiKey, IdempotentRequest, User
from accounts.permissions import membership_for
from accounts.roles import can
from lib.outage import database_outage
from scans import api as scans_api
from trails import api as trails_api
from trails import api_media as trails_media_api
from trails import api_translations as trails_translations_api
from trails.limits import TooManyPreviews
from trails.media import MediaRefused
from trails.models import InvalidDocument, StaleVersion
from trails.qr import InvalidQrOptions

logger = logging.getLogger(__name__)

# A trail document is at most 200 KB of UTF-8 (dap.MAX_DOCUMENT_BYTES); written as a JSON
# string, escaping can triple that (a 2-byte character becomes "\uXXXX"). Anything larger
# is refused before a byte of it is read.
MAX_BODY_BYTES = 1024 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ERROR_STATUSES = (400, 401, 403, 404, 413, 422, 429, 503)
RATE_WINDOW_SECONDS = 60
# Wrong API keys a client network (/24, /48) may send a minute, over all workspaces. A key is 256
# random bits, so this is not what keeps one from being guessed; it keeps a guesser from costing
# us a database query per try, at full speed, for ever.
FAILED_KEYS_PER_MINUTE = 20


class ApiError(Exception):
    """An answer other than success, in the API's error shape."""

    def __init__(
        self, status: int, code: str, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Who is calling -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who is calling: an API key of the workspace, or a member using the dashboard's session."""

    can_write: bool
    key: ApiKey | None = None
    user: User | None = None

    @property
    def name(self) -> str:
        return f"key:{self.key.pk}" if self.key else f"user:{self.user.pk}"

    @property
    def rate_key(self) -> str:
        return f"api-rate:{self.name}"


def _admit(request: HttpRequest, caller: Caller, *, write: bool | None) -> Caller:
    """Count the request against the caller's limit, check that the caller may do what it asks, then
    claim its Idempotency-Key (a POST that sends one)."""
    _count_request(request, caller, limit=request.tenant.api_requests_per_minute)
    wants_write = request.method not in SAFE_METHODS if write is None else write
    if wants_write and not caller.can_write:
        message = "This API key can only read." if caller.key else "Your role can only read."
        raise ApiError(403, "read_only", message)
    if request.method == "POST" and IDEMPOTENCY_HEADER in request.headers:
        _claim_idempotency_key(request, caller)
    return caller


@dataclass(frozen=True)
class RateLimit:
    """Where a caller stands against its limit, sent with every answer to an authenticated request."""

    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


def _count_request(request: HttpRequest, caller: Caller, *, limit: int) -> None:
    """Allow `limit` requests per caller per clock minute; raise a 429 past that. The cache's key
    function prefixes the workspace's schema."""
    count = _count(caller.rate_key)
    reset = RATE_WINDOW_SECONDS - int(time.time()) % RATE_WINDOW_SECONDS
    request.api_rate_limit = RateLimit(limit=limit, remaining=max(limit - (count or 0), 0), reset=reset)
    if count is not None and count > limit:
        _too_many(f"Over the limit of {limit} requests a minute", limit)


def _count(name: str) -> int | None:
    """Count one more for `name` in this clock minute and return the count; None if the cache is away.

    A fixed window per clock minute: cache.add then cache.incr, two round trips to Redis,
    where incr is atomic. The database cache's incr reads then writes, so a burst may slip a
    few requests past it: good enough for a limit, not a quota.
    """
    key = f"{name}:{int(time.time() // RATE_WINDOW_SECONDS)}"
    try:
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
        return cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.add(key, 1, timeout=RATE_WINDOW_SECONDS * 2)
        return 1
    except Exception:  # a cache outage should not bring every integration to a halt
        logger.warning("API rate limit not counted: the cache is unavailable", exc_info=True)
        return None


def _counted(name: str) -> int:
    """How many `name` has counted in this clock minute (0 if the cache is away)."""
    try:
        return cache.get(f"{name}:{int(time.time() // RATE_WINDOW_SECONDS)}", 0)
    except Exception:
        logger.warning("API rate limit not read: the cache is unavailable", exc_info=True)
        return 0


def _too_many(message: str, limit: int) -> None:
    retry_after = RATE_WINDOW_SECONDS - int(time.time()) % RATE_WINDOW_SECONDS
    raise ApiError(
        429,
        "rate_limited",
        f"{message}; retry in {retry_after} s.",
        details={"limit": limit, "retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def _failed_keys_counter(request: HttpRequest) -> str:
    """The counter of wrong keys from this request's client network, the same on every host.

    Named by the network's keyed hash (accounts.adapter.client_pseudonym), never its address;
    "rl:" keys are global (accounts/cache.py).
    """
    try:
        client = get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no client address at all
        client = "unknown"
    return f"rl:api-key-failed:{client}"


def _authenticate_key(request: HttpRequest, secret: str | None, *, write: bool | None) -> Caller | None:
    """The caller `secret` stands for, if it is an active key of this workspace. Wrong keys are counted
    per client network; past the limit, every key it sends is refused unread, right or wrong, so the
    answer tells a guesser nothing."""
    if not secret:
        return None
    counter = _failed_keys_counter(request)
    if _counted(counter) >= FAILED_KEYS_PER_MINUTE:
        _too_many(f"Over the limit of {FAILED_KEYS_PER_MINUTE} wrong API keys a minute", FAILED_KEYS_PER_MINUTE)
    key = ApiKey.objects.authenticate(secret, customer=request.tenant)
    if key is None:
        _count(counter)
        return None
    return _admit(request, Caller(can_write=key.can_write, key=key), write=write)


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer qrc_…`: an active key of the workspace whose host was called."""

    def __init__(self, *, write: bool | None = None) -> None:
        self.write = write  # None: writes are the unsafe HTTP methods
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        return _authenticate_key(request, token, write=self.write)


class ApiKeyHeader(APIKeyHeader):
    """`X-API-Key: qrc_…`, as clients written to the original QRCards plan send it: the same keys."""

    param_name = "X-API-Key"

    def __init__(self, *, write: bool | None = None) -> None:
        self.write = write
        super().__init__()
        self.openapi_name = "ApiKeyHeader"  # the scheme's name in the OpenAPI schema

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        return _authenticate_key(request, key, write=self.write)


class MemberSession(APIKeyCookie):
    """The dashboard's own log-in: members of this workspace; viewers read, editors and up write."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, *, write: bool | None = None) -> None:
        self.write = write
        # CSRF is checked below, once we know there is a member to protect: an anonymous
        # request should hear 401, not a CSRF failure.
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        membership = membership_for(request)
        if membership is None:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed", "Send the CSRF token (X-CSRFToken header) with a session's writes.")
        caller = Caller(can_write=can(membership.role, "edit_trails"), user=request.user)
        return _admit(request, caller, write=self.write)


AUTH = [ApiKeyAuth(), ApiKeyHeader(), MemberSession()]
# For the few POSTs that change nothing (assembling a preview): a read key may use them.
READ_AUTH = [ApiKeyAuth(write=False), ApiKeyHeader(write=False), MemberSession(write=False)]


# Body size ------------------------------------------------------------------------------------------------


def limit_body(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a body over MAX_BODY_BYTES from its Content-Length, before anything reads it. An operation that
    takes files (trails/api_media.py) names its own limit: a function as its view's `max_body_bytes`."""
    view = getattr(getattr(run, "__self__", None), "view_func", None)
    limit_of = getattr(view, "max_body_bytes", lambda: MAX_BODY_BYTES)

    @wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return error_response(400, "bad_request", "The Content-Length header is not a number of bytes.")
        request.api_body_limit = limit_of()
        if length > request.api_body_limit:
            return _body_too_large(request.api_body_limit)
        return run(request, *args, **kwargs)

    return wrapped


def _body_too_large(limit: int = MAX_BODY_BYTES) -> HttpResponse:
    return error_response(
        413, "body_too_large", f"The request body is over the limit of {limit // 1024} KB.", {"limit_bytes": limit}
    )


# Idempotency keys -----------------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: a UUID, a hash, an order number
# Not replayed: they describe this request, not the first one.
UNREPLAYED_HEADERS = frozenset({"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "set-cookie"})


class Replay(Exception):
    """The caller sent this POST before with the same key: answer what it was answered then."""

    def __init__(self, record: IdempotentRequest) -> None:
        super().__init__(record.key)
        self.record = record


def _claim_idempotency_key(request: HttpRequest, caller: Caller) -> None:
    """Make this request the one that answers its Idempotency-Key, or raise Replay (the same key and request
    were answered before) or a 409 (the key came with another request).

    The claim is a row inserted in a transaction that stays open until the answer is stored with it
    (`_finish_idempotent`), so the answer commits with what the request created, or neither does. A
    concurrent duplicate's insert waits on the unique key until then: it replays the answer if the
    first committed, or goes ahead itself if the first was refused (only 2xx answers are kept).
    """
    key = request.headers[IDEMPOTENCY_HEADER]
    if not IDEMPOTENCY_KEY.fullmatch(key):
        message = "An Idempotency-Key is 1 to 255 visible ASCII characters (a UUID, say)."
        error = {"loc": ("header", IDEMPOTENCY_HEADER), "msg": message, "type": "invalid_idempotency_key"}
        raise NinjaValidationError([error])
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.content_type == "multipart/form-data":
        _digest_form(digest, request)
    else:
        digest.update(request.body)
    fingerprint = digest.hexdigest()
    claim = transaction.atomic()
    claim.__enter__()
    try:
        mine = {"customer": request.tenant, "caller": caller.name, "key": key}
        record = _insert_claim(mine, fingerprint)
    except BaseException as error:
        claim.__exit__(type(error), error, error.__traceback__)
        raise
    if record.status is None:
        request.api_idempotency = (claim, record)
        return
    claim.__exit__(None, None, None)  # nothing was written
    if record.fingerprint != fingerprint:
        message = f"This {IDEMPOTENCY_HEADER} was used for another request; send a new key for a new request."
        raise ApiError(409, "idempotency_key_reused", message)
    raise Replay(record)


def _digest_form(digest: Any, request: HttpRequest) -> None:
    """Add a form's fields and files to `digest`: an upload's body is parsed to temporary files, never held whole
    in memory as `request.body` would (and refuse past DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    for name, values in sorted(request.POST.lists()):
        digest.update(json.dumps([name, values]).encode())
    for name, files in sorted(request.FILES.lists()):
        for upload in files:
            digest.update(json.dumps([name, upload.name, upload.size]).encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)


def _insert_claim(mine: dict, fingerprint: str) -> IdempotentRequest:
    """The new claim (status None), or the answered request that holds the key."""
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(**mine, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotentRequest.objects.filter(**mine).first()
            if record is None:  # the holder rolled back as we looked
                continue
            if record.created_at >= timezone.now() - IdempotentRequest.KEEP:
                return record
            record.delete()  # older than 24 hours and not yet purged: the key is free again
    raise ApiError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is in progress; retry shortly.")


def _finish_idempotent(request: HttpRequest, response: HttpResponse) -> None:
    """Store a successful answer with its claim and commit; roll back a refused one, so a retry runs afresh."""
    claim, record = request.api_idempotency
    del request.api_idempotency
    if 200 <= response.status_code < 300 and not response.streaming:
        record.status = response.status_code
        record.body = response.content
        record.headers = {name: value for name, value in response.items() if name.lower() not in UNREPLAYED_HEADERS}
        try:
            record.save(update_fields=["status", "body", "headers"])
        except BaseException as error:
            claim.__exit__(type(error), error, error.__traceback__)
            raise
        claim.__exit__(None, None, None)
        return
    rollback = RuntimeError("answer not kept")
    try:
        claim.__exit__(RuntimeError, rollback, None)
    except DatabaseError:  # the connection broke (the answer says so already)
        logger.warning("Rolling back an idempotent request failed", exc_info=True)


def _replayed(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status)
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


# What every answer carries --------------------------------------------------------------------------------


def finish_answer(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """After an operation: keep or drop its Idempotency-Key's claim; ETag (and 304 for If-None-Match) on a
    successful read; the caller's rate-limit headers on anything answered after authentication."""

    @wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            if hasattr(request, "api_idempotency"):
                _finish_idempotent(request, HttpResponse(status=500))
            raise
        if hasattr(request, "api_idempotency"):
            _finish_idempotent(request, response)
        if request.method in SAFE_METHODS and response.status_code == 200 and not response.streaming:
            set_response_etag(response)
            response = get_conditional_response(request, etag=response["ETag"], response=response)
        if rate_limit := getattr(request, "api_rate_limit", None):
            for name, value in rate_limit.headers().items():
                response[name] = value
        return response

    return wrapped


# The API --------------------------------------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable; listed per status for each operation."},
                "message": {"type": "string", "description": "For people; may change."},
                "details": {
                    "description": "Null, an object (limits, diagnostics), or for invalid values a list of "
                    '{"loc": [where, name…], "message", "type"}, where is path, query, header or body.'
                },
            },
        }
    },
}

# The error codes an operation may answer, with an example of each; filtered per operation below.
ERROR_EXAMPLES: dict[int, list[tuple[str, str, Any]]] = {
    400: [("bad_request", "Cannot parse request body", None)],
    401: [
        ("not_authenticated", "Send an API key of this workspace: Authorization: Bearer qrc_…", None),
        ("invalid_api_key", "This API key is not one of this workspace's active keys.", None),
    ],
    403: [
        ("read_only", "This API key can only read.", None),
        ("csrf_failed", "Send the CSRF token (X-CSRFToken header) with a session's writes.", None),
    ],
    404: [("not_found", "Not found.", None)],
    409: [
        ("stale_version", "Someone saved this trail after the version you sent; fetch it, merge, and send …", None),
        ("idempotency_key_reused", "This Idempotency-Key was used for another request; send a new key …", None),
        ("idempotency_key_in_use", "A request with this Idempotency-Key is in progress; retry shortly.", None),
        ("name_in_use", "The name “heron.jpg” is in use; choose another or replace that file.", None),
        (
            "media_in_use",
            "“heron.jpg” is used by 1 document(s); remove those references first.",
            {"used_by": [{"trail_id": 7, "title": "Old Town Walk", "language": None}]},
        ),
    ],
    413: [
        ("body_too_large", "The request body is over the limit of 1024 KB.", {"limit_bytes": MAX_BODY_BYTES}),
        ("too_large", "A picture may be at most 20.0 MB; this one is 24.3 MB.", {"file": "heron.jpg", "index": 0}),
        (
            "too_many_pixels",
            "This picture has too many pixels (60000 × 60000): at most 50 megapixels.",
            {"file": "heron.png", "index": 0},
        ),
        ("too_many_files", "At most 20 files at once; this request has 25.", None),
        (
            "quota_exceeded",
            "The workspace's media would take more than its 1024.0 MB (1020.2 MB are used); delete some files first.",
            {"used_bytes": 1069757235, "allowed_bytes": 1073741824, "file": "heron.jpg", "index": 0},
        ),
    ],
    415: [
        (
            "unsupported_type",
            "This file is not a picture (JPEG, PNG, WebP, HEIC) or a sound (MP3, M4A, Ogg) we can use.",
            {"file": "heron.jpg", "index": 0},
        ),
        ("markup", "This file holds web page markup (HTML or SVG); it is refused.", {"file": "heron.png", "index": 0}),
    ],
    422: [
        (
            "invalid_request",
            "The request has invalid values; see details.",
            [{"loc": ["body", "status"], "message": "Input should be 'draft' or 'published'", "type": "literal_error"}],
        ),
        (
            "invalid_document",
            "The document has errors; nothing was saved. See details.diagnostics.",
            {"diagnostics": [{"line": 7, "severity": "error", "code": "empty-stop", "message": "…"}]},
        ),
        (
            "invalid_qr_options",
            "The colours are too close to scan reliably.",
            [{"loc": ["query"], "message": "The colours are too close to scan reliably.", "type": "low-contrast"}],
        ),
        ("invalid_name", "A name is 1 to 100 letters, digits, dots, dashes or underscores, …", None),
        ("unreadable", "This picture is damaged or incomplete; it could not be read.", {"file": "cut.jpg", "index": 0}),
    ],
    429: [
        ("rate_limited", "Over the limit of 600 requests a minute; retry in 12 s.", {"limit": 600, "retry_after": 12})
    ],
    503: [("unavailable", "The service is briefly unavailable; try again shortly.", None)],
}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests a minute this caller may make.",
    "RateLimit-Remaining": "Requests left in this minute.",
    "RateLimit-Reset": "Seconds until the minute ends and the count starts again.",
}
# Python class names that would otherwise name the schema's components.
COMPONENT_NAMES = {
    "TrailOut": "Trail",
    "TrailCreate": "NewTrail",
    "TrailUpdate": "TrailDocument",
    "TrailPatch": "TrailChanges",
    "Preview": "Document",
    "StopOut": "Stop",
    "ScanOut": "Scan",
    "DayOut": "Day",
    "FunnelOut": "Funnel",
    "FunnelStepOut": "FunnelStep",
    "PeriodOut": "Period",
    "RowOut": "Row",
    "TranslationOut": "Translation",
    "TranslationPut": "TranslationDocument",
    "EndpointCreate": "NewWebhookEndpoint",
    "EndpointChange": "WebhookEndpointChanges",
    "EndpointOut": "WebhookEndpoint",
    "EndpointCreated": "CreatedWebhookEndpoint",
    "EndpointList": "WebhookEndpointList",
    "SecretOut": "WebhookSecret",
    "AttemptOut": "WebhookAttempt",
    "DeliveryOut": "WebhookDelivery",
    "DeliveryList": "WebhookDeliveryList",
    "MediaOut": "Media",
    "MediaDetail": "MediaDetail",
    "MediaList": "MediaList",
    "VariantOut": "MediaVariant",
    "DocumentOut": "MediaUse",
    "Uploaded": "UploadedMedia",
    "MediaRename": "MediaName",
}
# OpenAPI links: what a client (and the stateful fuzzer) can call next with what an answer gave.
TRAIL_ID = {"trail_id": "$response.body#/trail/id"}
MEDIA_ID = {"media_id": "$response.body#/items/0/id"}
LINKS = {
    ("post", "/trails"): {
        "GetTrail": ("getTrail", TRAIL_ID),
        "ChangeTrail": ("patchTrail", TRAIL_ID),
        "ReplaceTrail": ("updateTrail", TRAIL_ID),
        "ListStops": ("listStops", TRAIL_ID),
        "DeleteTrail": ("deleteTrail", TRAIL_ID),
    },
    ("get", "/trails/{trail_id}/stops/{stop_id}"): {"FindByToken": ("stopByToken", {"token": "$response.body#/token"})},
    ("post", "/media"): {
        "GetMedia": ("getMedia", MEDIA_ID),
        "RenameMedia": ("renameMedia", MEDIA_ID),
        "DeleteMedia": ("deleteMedia", MEDIA_ID),
    },
}


class QrCardsApi(NinjaAPI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[str, dict] = {}

    def _get_urls(self) -> list:
        """ninja answers a method a path doesn't take in plain text; ours answer in the JSON error shape."""
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_method_not_allowed(pattern.callback)
        return patterns

    def get_openapi_operation_id(self, operation: Any) -> str:
        """The view's name in camelCase (patchTrail), without the module path ninja puts first."""
        first, *rest = operation.view_func.__name__.split("_")
        return first + "".join(word.title() for word in rest)

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> dict:
        """The generated schema, with the answers every operation may give: errors (each code with an
        example), rate-limit headers, ETag and 304 on reads, Idempotency-Key on POSTs, and links."""
        if path_prefix is None:  # as served at /api/v1/openapi.json
            path_prefix = self.get_root_path(path_params or {})
        # Made once a process (~150 ms, and anyone may ask): the routes can't change while it runs. Read-only.
        if (schema := self._schemas.get(path_prefix)) is None:
            schema = self._schemas[path_prefix] = self._make_openapi_schema(path_prefix)
        return schema

    def _make_openapi_schema(self, path_prefix: str) -> dict:
        schema = super().get_openapi_schema(path_prefix=path_prefix)
        prefix = path_prefix.rstrip("/")
        schema["components"].setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                _document_operation(path.removeprefix(prefix), method, operation)
        return _public_names(schema)


def _document_operation(path: str, method: str, operation: dict) -> None:
    rate_headers = {
        name: {"description": text, "schema": {"type": "integer"}} for name, text in RATE_LIMIT_HEADERS.items()
    }
    for answer in operation["responses"].values():
        answer.setdefault("headers", {}).update(rate_headers)
    if method == "get":
        ok = operation["responses"][200]
        ok["headers"]["ETag"] = {"description": "Send it as If-None-Match to be answered 304 if nothing changed."}
        operation["responses"][304] = {"description": "Not modified since the ETag you sent.", "headers": rate_headers}
        operation.setdefault("parameters", []).append(
            {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string", "maxLength": 200}}
        )
    if method == "post":
        operation.setdefault("parameters", []).append(
            {
                "in": "header",
                "name": IDEMPOTENCY_HEADER,
                "required": False,
                "description": "Any unique string (a UUID): a retry with the same key and body within 24 hours "
                "gets the first answer (with `Idempotent-Replayed: true`) and creates nothing; with another "
                "body, a 409.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
            }
        )
    if 201 in operation["responses"]:
        location = {"description": "The address of what was created.", "schema": {"type": "string"}}
        operation["responses"][201]["headers"]["Location"] = location
    for name, (target, parameters) in LINKS.get((method, path), {}).items():
        status = 201 if method == "post" else 200
        links = operation["responses"][status].setdefault("links", {})
        links[name] = {"operationId": target, "parameters": parameters}
    for status in _error_statuses(path, method):
        answer = operation["responses"].setdefault(status, _error_response_doc(status, path, method))
        if status == 429:
            answer["headers"] = {
                **rate_headers,
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
            }
        elif status not in (401, 413):  # answered before the caller is known
            answer["headers"] = dict(rate_headers)


def _error_statuses(path: str, method: str) -> list[int]:
    statuses = list(ERROR_STATUSES)
    if method in ("put", "patch", "post") or (path, method) == ("/media/{media_id}", "delete"):
        statuses.append(409)
    if (path, method) == ("/media", "post"):
        statuses.append(415)
    return sorted(statuses)


def _error_codes(status: int, path: str, method: str) -> list[tuple[str, str, Any]]:
    """The codes of `status` this operation can answer."""
    document_saved = path in ("/trails", "/trails/{trail_id}") and method in ("post", "put", "patch")
    qr_options = path.endswith(("qr.svg", "qr.png", "qr.zip"))
    upload = (path, method) == ("/media", "post")
    media_named = upload or (path, method) == ("/media/{media_id}", "patch")
    wanted = {
        "stale_version": method in ("put", "patch"),
        "idempotency_key_reused": method == "post",
        "idempotency_key_in_use": method == "post",
        "read_only": method not in ("get",) and path != "/trails/preview",
        "csrf_failed": method != "get",
        "invalid_document": document_saved,
        "invalid_qr_options": qr_options,
        "name_in_use": media_named,
        "invalid_name": media_named,
        "media_in_use": (path, method) == ("/media/{media_id}", "delete"),
        **dict.fromkeys(("too_large", "too_many_pixels", "too_many_files", "quota_exceeded", "unreadable"), upload),
        **dict.fromkeys(("unsupported_type", "markup"), upload),
    }
    return [example for example in ERROR_EXAMPLES[status] if wanted.get(example[0], True)]


def _error_response_doc(status: int, path: str, method: str) -> dict:
    codes = _error_codes(status, path, method)
    listed = "; ".join(f"`{code}`" for code, _, _ in codes)
    examples = {
        code: {"value": {"error": {"code": code, "message": message, "details": details}}}
        for code, message, details in codes
    }
    return {
        "description": f"{http.client.responses[status]}: {listed}" if listed else http.client.responses[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}, "examples": examples}},
    }


def _public_names(schema: dict) -> dict:
    """The schema without Python's names: components named for what they are, no generated titles, and
    no query-parameter models (ninja lists them though nothing refers to them)."""
    text = json.dumps(schema)
    for internal, public in COMPONENT_NAMES.items():
        text = text.replace(f'"#/components/schemas/{internal}"', f'"#/components/schemas/{public}"')
    schema = json.loads(text)
    components = schema["components"]["schemas"]
    for internal, public in COMPONENT_NAMES.items():
        if internal in components:
            components[public] = components.pop(internal)
    referenced = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    for name in list(components):
        if name not in referenced and name != "Error":
            del components[name]
    _drop_titles(schema)
    return schema


SCHEMA_KEYWORDS = frozenset({"type", "anyOf", "allOf", "enum", "properties", "$ref", "const"})


def _drop_titles(node: Any) -> None:
    """Pydantic titles every model and field with its Python name ("TrailPatch", "Trail Id"); the
    names the schema gives them already say it."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str) and (
            "type" in node
            or "anyOf" in node
            or "properties" in node
            or "$ref" in node
            or "enum" in node
            or "allOf" in node
        ):
            del node["title"]
        for value in node.values():
            _drop_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_titles(value)


def _json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = response.get("Allow", "")
        message = f"{request.method} is not allowed here."
        return error_response(405, "method_not_allowed", message, {"allowed": allowed}, headers={"Allow": allowed})

    return wrapped


api = QrCardsApi(
    title="QRCards API",
    version="1",
    description=(
        "Trails, stops, QR images, printable cards, scans and stats of one workspace, on that workspace's "
        "host. Authenticate with `Authorization: Bearer qrc_…` or `X-API-Key: qrc_…` (an API key made under "
        "Dashboard → API keys).\n\n"
        "Lists come a page at a time: pass `limit` (up to 1000) and the `next_cursor` of the page before as "
        "`cursor` while `has_more`. Reads have an `ETag`: send it as `If-None-Match` to be answered 304 if "
        "nothing changed. Send an `Idempotency-Key` with a POST and the same one with its retries: within "
        "24 hours a retry gets the first answer and creates nothing. Every answer says where your key "
        "stands with `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`. Errors are "
        '`{"error": {"code", "message", "details"}}`; each operation lists its codes.'
    ),
    urls_namespace="api",
    auth=AUTH,
)
api.add_decorator(limit_body, mode="view")
api.add_decorator(finish_answer, mode="view")


# Errors ---------------------------------------------------------------------------------------------------

STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


@api.exception_handler(AuthenticationError)
def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="api"'}
    if "Authorization" in request.headers or "X-API-Key" in request.headers:
        message = "This API key is not one of this workspace's active keys."
        return error_response(401, "invalid_api_key", message, headers=headers)
    message = "Send an API key of this workspace: Authorization: Bearer qrc_… (or X-API-Key: qrc_…)"
    return error_response(401, "not_authenticated", message, headers=headers)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja's own: malformed JSON (400) among them.
    return error_response(exc.status_code, STATUS_CODES.get(exc.status_code, "error"), exc.message)


# Every invalid value, wherever it was found, is reported the same way: `details` is a list of
# {"loc": [where, name...], "message", "type"}, where is "path", "query", "header" or "body".


@api.exception_handler(NinjaValidationError)
def _invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [{"loc": _location(error["loc"]), "message": error["msg"], "type": error["type"]} for error in exc.errors]
    return error_response(422, "invalid_request", "The request has invalid values; see details.", details)


# What the views call their body and query-schema parameters; ninja puts the name in a location.
VIEW_PARAMETERS = frozenset({"payload", "query", "filters", "options"})


def _location(loc: tuple | list) -> list:
    """Ninja's location without the view's parameter name: ["body", "payload", "title"] is ["body", "title"],
    and a check of the whole query, ["query", "query"], is ["query"]."""
    loc = list(loc)
    if len(loc) > 1 and loc[0] in ("body", "query") and loc[1] in VIEW_PARAMETERS:
        del loc[1]
    return loc


@api.exception_handler(DjangoValidationError)
def _invalid_values(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A form's or model's refusal (the dashboard's own checks, reused), in the shape of the schema's."""
    where = "query" if request.method in SAFE_METHODS else "body"
    if hasattr(exc, "error_dict"):
        found = [(field, error) for field, errors in exc.error_dict.items() for error in errors]
    else:
        found = [(NON_FIELD_ERRORS, error) for error in exc.error_list]
    details = [
        {
            "loc": [where] if field == NON_FIELD_ERRORS else [where, field],
            "message": next(iter(error)),
            "type": error.code or "invalid",
        }
        for field, error in found
    ]
    return error_response(422, "invalid_request", "; ".join(exc.messages), details)


@api.exception_handler(InvalidDocument)
def _invalid_document(request: HttpRequest, exc: InvalidDocument) -> HttpResponse:
    diagnostics = [asdict(diagnostic) for diagnostic in exc.assembly.diagnostics]
    message = "The document has errors; nothing was saved. See details.diagnostics."
    return error_response(422, "invalid_document", message, {"diagnostics": diagnostics})


@api.exception_handler(Replay)
def _replay(request: HttpRequest, exc: Replay) -> HttpResponse:
    return _replayed(exc.record)


@api.exception_handler(StaleVersion)
def _stale_version(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
    message = "Someone saved this trail after the version you sent; fetch it, merge, and send the new version."
    return error_response(409, "stale_version", message)


@api.exception_handler(InvalidQrOptions)
def _invalid_qr_options(request: HttpRequest, exc: InvalidQrOptions) -> HttpResponse:
    details = [{"loc": ["query"], "message": problem.message, "type": problem.code} for problem in exc.problems]
    return error_response(422, "invalid_qr_options", str(exc), details)


@api.exception_handler(TooManyPreviews)
def _too_many_previews(request: HttpRequest, exc: TooManyPreviews) -> HttpResponse:
    message = f"Too many previews; try again in {exc.retry_after} s."
    details = {"retry_after": exc.retry_after}
    return error_response(429, "rate_limited", message, details, headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(MediaRefused)
def _media_refused(request: HttpRequest, exc: MediaRefused) -> HttpResponse:
    return error_response(trails_media_api.STATUS.get(exc.code, 422), exc.code, str(exc), exc.details)


@api.exception_handler(TooManyFilesSent)
def _too_many_files_sent(request: HttpRequest, exc: TooManyFilesSent) -> HttpResponse:
    message = "Too many files in one request."
    return error_response(413, "too_many_files", message, {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES})


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database is away: a 503 to retry, and one log line per outage rather than a traceback per call."""
    database_outage.failed(exc)
    message = "The service is briefly unavailable; try again shortly."
    response = error_response(503, "unavailable", message, headers={"Retry-After": "30"})
    response._has_been_logged = True  # by the line above, once per outage: not by Django once per request
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", str(exc) or "Forbidden.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _body_too_large(getattr(request, "api_body_limit", MAX_BODY_BYTES))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "server_error", "Something went wrong on our side; it has been logged.")


# Routes ---------------------------------------------------------------------------------------------------

# The preview router first: "/trails/preview" must not be taken for a trail id.
api.add_router("/trails", trails_api.preview_router, auth=READ_AUTH, tags=["trails"])
api.add_router("/trails", trails_api.router, tags=["trails"])
api.add_router("/stops", trails_api.stops_router, tags=["stops"])
api.add_router("/trails", trails_translations_api.router, tags=["translations"])
api.add_router("", scans_api.router, tags=["scans"])
api.add_router("/webhooks", "accounts.api.router", tags=["webhooks"])
api.add_router("/media", trails_media_api.router, tags=["media"])

# Last, so it matches only what nothing else did: unknown API paths answer in the API's shape.
not_found_router = Router()


@not_found_router.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    raise Http404("No such API endpoint.")


api.add_router("", not_found_router)


def public_host_api(request: HttpRequest, rest: str = "") -> HttpResponse:
    """/api/… on the public host: the API lives on each workspace's host, so say so in the API's own shape."""
    message = "The API is on your workspace's host: https://<workspace>.<domain>/api/v1/ (see its /api/v1/docs)."
    return error_response(404, "not_found", message)
