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
4. whether the caller may write, for POST, PUT, PATCH and DELETE (403 otherwise).

Every error answer has the same shape: `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from accounts.models import ApiKey, User
from accounts.permissions import membership_for
from accounts.roles import can
from lib.outage import database_outage
from scans import api as scans_api
from trails import api as trails_api
from trails import api_translations as trails_translations_api
from trails.limits import TooManyPreviews
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
    def rate_key(self) -> str:
        return f"api-rate:key:{self.key.pk}" if self.key else f"api-rate:user:{self.user.pk}"


def _admit(request: HttpRequest, caller: Caller, *, write: bool | None) -> Caller:
    """Count the request against the caller's limit, then check that the caller may do what it asks."""
    _count_request(caller, limit=request.tenant.api_requests_per_minute)
    wants_write = request.method not in SAFE_METHODS if write is None else write
    if wants_write and not caller.can_write:
        message = "This API key can only read." if caller.key else "Your role can only read."
        raise ApiError(403, "read_only", message)
    return caller


def _count_request(caller: Caller, *, limit: int) -> None:
    """Allow `limit` requests per caller per clock minute; raise a 429 past that. The cache's key
    function prefixes the workspace's schema."""
    count = _count(caller.rate_key)
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
    """Refuse a body over MAX_BODY_BYTES from its Content-Length, before anything reads it."""

    @wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return error_response(400, "bad_request", "The Content-Length header is not a number of bytes.")
        if length > MAX_BODY_BYTES:
            return _body_too_large()
        return run(request, *args, **kwargs)

    return wrapped


def _body_too_large() -> HttpResponse:
    return error_response(
        413,
        "body_too_large",
        f"The request body is over the limit of {MAX_BODY_BYTES // 1024} KB.",
        {"limit_bytes": MAX_BODY_BYTES},
    )


# The API --------------------------------------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}


class QrCardsApi(NinjaAPI):
    def _get_urls(self) -> list:
        """ninja answers a method a path doesn't take in plain text; ours answer in the JSON error shape."""
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_method_not_allowed(pattern.callback)
        return patterns

    def get_openapi_schema(self, **kwargs: Any) -> dict:
        """The generated schema, with the error answers every operation may give."""
        schema = super().get_openapi_schema(**kwargs)
        schema["components"].setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                statuses = ERROR_STATUSES + ((409,) if method == "put" else ())
                for status in statuses:
                    operation["responses"].setdefault(status, _error_response_doc(status))
        return schema


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


def _error_response_doc(status: int) -> dict:
    doc: dict[str, Any] = {
        "description": http.client.responses[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        doc["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
    return doc


api = QrCardsApi(
    title="QRCards API",
    version="1",
    description=(
        "Trails, stops, QR images, scans and stats of one workspace, on that workspace's host. "
        "Authenticate with `Authorization: Bearer qrc_…` or `X-API-Key: qrc_…` (an API key made under "
        "Dashboard → API keys)."
    ),
    urls_namespace="api",
    auth=AUTH,
)
api.add_decorator(limit_body, mode="view")


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


@api.exception_handler(NinjaValidationError)
def _invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [{"loc": list(error["loc"]), "message": error["msg"], "type": error["type"]} for error in exc.errors]
    return error_response(422, "invalid_request", "The request has invalid values; see details.", details)


@api.exception_handler(DjangoValidationError)
def _invalid_values(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return error_response(422, "invalid_request", "; ".join(exc.messages), details)


@api.exception_handler(InvalidDocument)
def _invalid_document(request: HttpRequest, exc: InvalidDocument) -> HttpResponse:
    diagnostics = [asdict(diagnostic) for diagnostic in exc.assembly.diagnostics]
    message = "The document has errors; nothing was saved. See details.diagnostics."
    return error_response(422, "invalid_document", message, {"diagnostics": diagnostics})


@api.exception_handler(StaleVersion)
def _stale_version(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
    message = "Someone saved this trail after the version you sent; fetch it, merge, and send the new version."
    return error_response(409, "stale_version", message)


@api.exception_handler(InvalidQrOptions)
def _invalid_qr_options(request: HttpRequest, exc: InvalidQrOptions) -> HttpResponse:
    details = [{"code": problem.code, "message": problem.message} for problem in exc.problems]
    return error_response(422, "invalid_qr_options", str(exc), details)


@api.exception_handler(TooManyPreviews)
def _too_many_previews(request: HttpRequest, exc: TooManyPreviews) -> HttpResponse:
    message = f"Too many previews; try again in {exc.retry_after} s."
    details = {"retry_after": exc.retry_after}
    return error_response(429, "rate_limited", message, details, headers={"Retry-After": str(exc.retry_after)})


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
    return _body_too_large()


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "server_error", "Something went wrong on our side; it has been logged.")


# Routes ---------------------------------------------------------------------------------------------------

# The preview router first: "/trails/preview" must not be taken for a trail id.
api.add_router("/trails", trails_api.preview_router, auth=READ_AUTH, tags=["trails"])
api.add_router("/trails", trails_api.router, tags=["trails"])
api.add_router("/trails", trails_translations_api.router, tags=["translations"])
api.add_router("", scans_api.router, tags=["scans"])

# Last, so it matches only what nothing else did: unknown API paths answer in the API's shape.
not_found_router = Router()


@not_found_router.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    raise Http404("No such API endpoint.")


api.add_router("", not_found_router)
