"""QRCards settings: one module, configured by environment variables (see .env.example).

QRCARDS_ENV picks the mode. `development` (the default) needs nothing: an embedded database, a key kept
under var/, e-mails on the console. `production` refuses to start without what production needs, and is
secure by default: HTTPS only (redirect, HSTS, secure cookies), JSON logs.
"""

from __future__ import annotations

import secrets
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from qrcards.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

QRCARDS_ENV = env_choice("QRCARDS_ENV", ("development", "production"), "development")
PRODUCTION = QRCARDS_ENV == "production"


def _refuse_to_start_without_what_production_needs() -> None:
    """Production fails closed: no embedded database, no key made up on the spot, no e-mails lost to a console."""
    missing = [name for name in ("DATABASE_URL", "QRCARDS_DOMAIN", "EMAIL_URL") if not env_str(name)]
    if not env_str("SECRET_KEY") and not env_str("SECRET_KEY_FILE"):
        missing.insert(1, "SECRET_KEY (or SECRET_KEY_FILE)")
    if missing:
        raise ImproperlyConfigured(
            f"QRCARDS_ENV=production needs {', '.join(missing)}: set {'it' if len(missing) == 1 else 'them'} "
            "in the environment (see .env.example)"
        )


if PRODUCTION:
    _refuse_to_start_without_what_production_needs()


def _secret_key() -> str:
    """SECRET_KEY, or the contents of the file SECRET_KEY_FILE names, or (development) one generated into var/."""
    key, key_file = env_str("SECRET_KEY"), env_str("SECRET_KEY_FILE")
    if key and key_file:
        raise ImproperlyConfigured("Set SECRET_KEY or SECRET_KEY_FILE, not both")
    if key:
        return key
    if key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE: cannot read {key_file}: {error.strerror}") from None
        if not key:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE: {key_file} is empty")
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    if url := env_str("DATABASE_URL"):
        return url
    from qrcards.embedded_db import embedded_database_url

    return embedded_database_url(VAR_DIR)


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
QRCARDS_DOMAIN = env_str("QRCARDS_DOMAIN", "qrcards.localhost").lower()

# The Domain table is the allow-list of hosts: an unknown host is answered with a
# 404 by the tenant middleware before any view runs, and workspaces may bring
# custom domains that can't be listed here.
ALLOWED_HOSTS = ["*"]

# HTTPS. In production every setting here is on unless its variable turns it off; in development off
# unless turned on. HSTS covers subdomains because every workspace is one, all served by us over TLS.
# It asks for no preload: a place on the browsers' built-in lists covers every subdomain of the
# registrable domain and takes months to undo, a choice for whoever owns the domain, not a default
# (SECURE_HSTS_PRELOAD=true sends it once they have made it).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers and container health checks probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
# Not preloading is the choice above, not an oversight; `check --deploy` says so otherwise (W021).
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# The proxy in front (Caddy, a load balancer). Nothing is trusted unless these say so.
# TRUSTED_PROXY_SSL_HEADER: the header the proxy sets to "https" for TLS requests (X-Forwarded-Proto).
_ssl_header = env_str("TRUSTED_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = ("HTTP_" + _ssl_header.upper().replace("-", "_"), "https") if _ssl_header else None


# Who may tell us the client's address in X-Forwarded-For (qrcards.middleware.ProxyMiddleware):
# TRUSTED_PROXIES lists the proxies' addresses or networks; TRUSTED_PROXY_COUNT says how many proxies
# stand in front when their addresses are unknown (a platform's load balancer) and nothing else can
# reach the app. One or the other.
def _networks(name: str) -> list[IPv4Network | IPv6Network]:
    try:
        return [ip_network(item, strict=False) for item in env_list(name)]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must list addresses or networks (10.0.0.0/8); {error}") from None


TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
TRUSTED_PROXIES_NETWORKS = _networks("TRUSTED_PROXIES")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXIES and TRUSTED_PROXY_COUNT:
    raise ImproperlyConfigured("Set TRUSTED_PROXIES or TRUSTED_PROXY_COUNT, not both")
# ProxyMiddleware has already put the client's address in REMOTE_ADDR, which is what allauth's rate
# limits read when these are off; on, they would pick a hop out of X-Forwarded-For a second time.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None

SHARED_APPS = [
    # Before django_tenants, whose copies of the admin's index and app list (older than Django's, with
    # inline styles the Content-Security-Policy blocks) would otherwise replace Django's own.
    "django.contrib.admin",
    "django_tenants",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # The API's docs page serves the Swagger UI that ships with django-ninja, not one from a CDN.
    "ninja",
    # Accounts are global, so allauth's tables live in the public schema only.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Single sign-on (accounts/sso.py): Google and Microsoft from settings, and each workspace's own
    # OpenID Connect provider. Their linked accounts live beside the users, in the public schema.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.admin",
    "trails",
    "scans",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "accounts.Customer"
TENANT_DOMAIN_MODEL = "accounts.Domain"
PUBLIC_SCHEMA_URLCONF = "qrcards.urls_public"
ROOT_URLCONF = "qrcards.urls_tenant"
TENANT_LIMIT_SET_CALLS = True
# `migrate_schemas` skips schemas that have every migration and migrates the others this many at a time
# (accounts/schemas.py: SkippingExecutor). Each process holds a database connection while it runs.
GET_EXECUTOR_FUNCTION = "accounts.schemas.get_executor"
TENANT_MULTIPROCESSING_MAX_PROCESSES = env_int("MIGRATION_PROCESSES", 4)
DATABASE_ROUTERS = ["qrcards.routers.ReplicaRouter", "django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    # First: nothing behind it ever sees a NUL in the address.
    "qrcards.middleware.refuse_nul_in_address",
    # Caddy asks before it gets a certificate for a name: answered to the proxy itself only (it reads the peer's
    # address, so it comes before ProxyMiddleware), on whatever host the proxy names.
    "accounts.middleware.TlsAskMiddleware",
    # Then: everything after it sees the client's address and scheme, not the proxy's.
    "qrcards.middleware.ProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "qrcards.middleware.ContentSecurityPolicyMiddleware",
    # Before the host decides the workspace: load balancers probe with hosts of their own.
    "qrcards.middleware.HealthCheckMiddleware",
    "accounts.middleware.TenantMiddleware",
    # Scanner pages are answered here: they need none of what follows (trails/middleware.py).
    "trails.middleware.scanner_fast_lane",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # A session is a log-in only on the host it was made on: a cookie copied to another host is no log-in there.
    "accounts.middleware.SessionHostMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Every page but the scanner's (which sets a stricter one): scripts and styles from our own static files
# only, nothing inline. Images may also come from https (trail pages may show them, and the editor
# previews those pages) and data: URLs (the TOTP set-up QR code, Swagger UI's icons). The middleware
# adds the public and workspace hosts to form-action, and the workspace's accent colour by its hash.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:", "https:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "style-src": ["'self'"],
}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "qrcards.wsgi.application"
# The largest form or body Django reads into memory. The biggest honest one is a 200 KB trail
# document, which percent- or JSON-escaping can triple; the API refuses bodies over 1 MB itself.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

DATABASES = {
    "default": dj_database_url.parse(
        _database_url(),
        engine="django_tenants.postgresql_backend",
        # Keep connections open between requests: opening one costs ~4 ms.
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
# A connection that has touched this many workspace schemas is replaced (accounts/schemas.py: touched_schemas): a
# PostgreSQL backend keeps every touched table's catalog entries, ~0.09 MB a workspace, for its lifetime.
SCHEMAS_PER_CONNECTION = env_int("SCHEMAS_PER_CONNECTION", 1000)
# A streaming replica of the database, for analytics reads (qrcards/routers.py). Not migrated: it replays the primary.
if _replica_url := env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        _replica_url,
        engine="django_tenants.postgresql_backend",
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# A Redis gone quiet costs a request half a second at most, then is skipped for a while (lib/shared.py).
_REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
# Before every cache key: deployments (or test runs) sharing one Redis keep apart, hosts and pages included.
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX") or ""
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _REDIS_TIMEOUTS,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "qrcards_cache"}
    )
    # Every key carries the schema it was made in, so no workspace can read another's entries.
    # Except rate-limit counters: failed log-ins count per client on every host together (accounts/cache.py).
    | {"KEY_FUNCTION": "accounts.cache.make_key", "REVERSE_KEY_FUNCTION": "accounts.cache.reverse_key"},
    # Hosts, scanner pages and visitor salts for every process (lib/shared.py): keys that name their workspace
    # themselves. A table of its own without Redis, so their number never culls the rate-limit counters.
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _REDIS_TIMEOUTS,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "qrcards_shared_cache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    ),
}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Host-only cookies: a log-in on one workspace host is not a log-in on another.
LOGIN_URL = "account_login"
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None

# Accounts (django-allauth): e-mail is the login; no usernames. Social log-in on workspace hosts only (accounts/sso.py).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[QRCards] "
# allauth's default limits (failed log-ins: 10 a minute per IP, 5 per 5 minutes per
# address...) stay on; they count in the default cache, which is never a dummy one.
# Ours, counted the same way: staff admin log-ins, mails from the public "Log in"
# and invitations sent.
ACCOUNT_RATE_LIMITS = {
    "admin_login_failed": "10/m/ip,5/5m/key",
    "find_workspaces": "10/m/ip,3/10m/key",
    "invite_member": "30/h/user",
    # The Verify button of a custom domain looks DNS up in the request (accounts/domains.py).
    "verify_domain": "10/m/user",
    # Live previews, per user on the dashboard and per key in the API (trails/limits.py): typing pauses
    # trigger one, so an author rarely sends more than one a second.
    "preview_trail": "60/m/key",
    # A workspace provider's log-in button (accounts.views.sso_login): a person presses it once or twice.
    "sso_login": "20/m/ip",
}
# Links in e-mails: https, except in development (*.localhost has no certificate).
_LOCAL = DEBUG or QRCARDS_DOMAIN == "localhost" or QRCARDS_DOMAIN.endswith(".localhost")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env_str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", "http" if _LOCAL else "https")
# The port in links we e-mail (password resets, invitations, log-in links), never the one a request's Host
# header names. Unset: none (the scheme's own) in production; in development, the port `make run` serves on.
_bind_port = env_str("BIND", "127.0.0.1:8000").rsplit(":", 1)[-1]
QRCARDS_PORT = env_int("QRCARDS_PORT", int(_bind_port) if _LOCAL and _bind_port.isdigit() else 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]

# Single sign-on (README "SSO"). Which providers a workspace host offers is decided per request by
# accounts.sso.SocialAccountAdapter.list_apps: Google and Microsoft when their credentials are set here
# (and the workspace doesn't require its own provider), and the workspace's own OpenID Connect provider.
SOCIALACCOUNT_ADAPTER = "accounts.sso.SocialAccountAdapter"
# An existing person is recognised by an e-mail address the provider says it verified (never otherwise:
# that would hand their account to whoever can make the provider claim it), and the provider is linked.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 5
# A workspace's provider is reached over https only, at addresses on the public internet (never this machine's
# network: its owner could otherwise have our servers call internal services). Development (and the tests'
# provider on loopback) may use http and local addresses.
SSO_ALLOW_LOCAL_ISSUERS = DEBUG


def _social_app(provider: str, client_id: str, secret: str, **app_settings: object) -> dict:
    """A provider's app from its client id and secret: both, or neither (and then no button)."""
    if bool(client_id) != bool(secret):
        raise ImproperlyConfigured(f"Set both {provider}_CLIENT_ID and {provider}_CLIENT_SECRET, or neither")
    if not client_id:
        return {}
    return {"APPS": [{"client_id": client_id, "secret": secret, "settings": app_settings}]}


SOCIALACCOUNT_PROVIDERS = {
    "google": {"SCOPE": ["openid", "profile", "email"], "OAUTH_PKCE_ENABLED": True}
    | _social_app("GOOGLE", env_str("GOOGLE_CLIENT_ID"), env_str("GOOGLE_CLIENT_SECRET")),
    # MICROSOFT_TENANT: "organizations" (work and school accounts, the default), "common", or one directory's id.
    "microsoft": _social_app(
        "MICROSOFT",
        env_str("MICROSOFT_CLIENT_ID"),
        env_str("MICROSOFT_CLIENT_SECRET"),
        tenant=env_str("MICROSOFT_TENANT", "organizations"),
    ),
}
MFA_TOTP_ISSUER = "QRCards"


def _email_url(url: str) -> SimpleNamespace:
    """EMAIL_URL read as smtp://user:password@host:587 (?tls=0 to turn STARTTLS off), smtps://…:465, or console:."""
    if not url or url.startswith("console:"):
        return SimpleNamespace(
            backend="django.core.mail.backends.console.EmailBackend",
            host="localhost",
            port=25,
            user="",
            password="",
            ssl=False,
            tls=False,
        )
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps", "submission"):
        raise ImproperlyConfigured(f"EMAIL_URL must start with smtp://, smtps:// or console:; got {parts.scheme!r}")
    query = parse_qs(parts.query)
    ssl = parts.scheme == "smtps" or query.get("ssl", ["0"])[0] in ("1", "true")
    return SimpleNamespace(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=parts.hostname or "localhost",
        port=parts.port or (465 if ssl else 587),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        ssl=ssl,
        tls=not ssl and query.get("tls", ["1"])[0] not in ("0", "false"),
    )


_email = _email_url(env_str("EMAIL_URL"))
# Requests write e-mails to an outbox; the worker (manage.py run_worker) hands them to EMAIL_URL's backend.
EMAIL_BACKEND = "accounts.mail.OutboxBackend"
EMAIL_DELIVERY_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_SSL = _email.ssl
EMAIL_USE_TLS = _email.tls
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"QRCards <noreply@{QRCARDS_DOMAIN}>")

# Webhooks (accounts/webhooks.py): endpoints must be https in production; plain http is for development and tests.
WEBHOOKS_ALLOW_HTTP = DEBUG or not PRODUCTION
# Never set outside the test suite: lets deliveries reach the suite's receiver on loopback (and nothing else).
WEBHOOKS_ALLOW_LOOPBACK_FOR_TESTS = False

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
# The dashboard is in English, with our wording over allauth's ("Log in", not "Sign In") from locale/en; scanner
# pages are served in the trail's languages (trails/languages.py), their own words from these catalogs
# (compiled .mo files are committed: no gettext needed to run).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# Uploaded files (logos, the media library: trails/media.py) go to the local file system under MEDIA_ROOT, or to
# an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, Backblaze B2) when MEDIA_S3_BUCKET is set. Workspace
# hosts serve them at /media/<key>/<file>: from the disk, or by a redirect to a short-lived signed URL of the
# bucket (or to MEDIA_PUBLIC_BASE_URL, a CDN in front of it, when set).
MEDIA_S3_BUCKET = env_str("MEDIA_S3_BUCKET")
MEDIA_PUBLIC_BASE_URL = env_str("MEDIA_PUBLIC_BASE_URL").rstrip("/")
MEDIA_SIGNED_URL_SECONDS = env_int("MEDIA_SIGNED_URL_SECONDS", 3600)


def s3_storage(
    *, bucket: str, endpoint_url: str, region: str, access_key: str, secret_key: str, public_base_url: str
) -> dict:
    """The default storage in an S3-compatible bucket (also what tests/fixtures/s3.py points at its server)."""
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured("Set both MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY, or neither")
    public = urlsplit(public_base_url) if public_base_url else None
    if public and (public.scheme not in ("http", "https") or not public.netloc):
        raise ImproperlyConfigured(f"MEDIA_PUBLIC_BASE_URL must be an http(s) URL; got {public_base_url!r}")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,  # unset: AWS itself
            "region_name": region or None,
            # Unset: boto3's own chain (AWS_* variables, an instance role).
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "addressing_style": env_choice("MEDIA_S3_ADDRESSING_STYLE", ("auto", "path", "virtual"), "auto"),
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own: private, unless a CDN is meant to read it
            "file_overwrite": False,
            "querystring_auth": not public,
            "querystring_expire": MEDIA_SIGNED_URL_SECONDS,
            "custom_domain": (public.netloc + public.path) if public else None,
            "url_protocol": f"{public.scheme}:" if public else "https:",
            # Every file's name changes with its content (a new key), so caches may keep it for good.
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }


_default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if MEDIA_S3_BUCKET:
    _default_storage = s3_storage(
        bucket=MEDIA_S3_BUCKET,
        endpoint_url=env_str("MEDIA_S3_ENDPOINT_URL"),
        region=env_str("MEDIA_S3_REGION"),
        access_key=env_str("MEDIA_S3_ACCESS_KEY_ID"),
        secret_key=env_str("MEDIA_S3_SECRET_ACCESS_KEY"),
        public_base_url=MEDIA_PUBLIC_BASE_URL,
    )
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The media library's limits (trails/media.py).
MEDIA_MAX_IMAGE_MB = env_int("MEDIA_MAX_IMAGE_MB", 20)
MEDIA_MAX_AUDIO_MB = env_int("MEDIA_MAX_AUDIO_MB", 50)
# A picture's pixels, as its header declares them, checked before it is decoded (a 48 MP phone photo fits).
MEDIA_MAX_IMAGE_PIXELS = env_int("MEDIA_MAX_IMAGE_PIXELS", 50_000_000)
MEDIA_QUOTA_MB = env_int("MEDIA_QUOTA_MB", 1024)
MEDIA_MAX_FILES_PER_UPLOAD = env_int("MEDIA_MAX_FILES_PER_UPLOAD", 20)
# Static file names carry a content hash, so browsers may keep them for a year.
WHITENOISE_MAX_AGE = 365 * 24 * 3600

# One line per event on stderr: JSON in production (for the platform's log search), plain in development.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "qrcards.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json" if PRODUCTION else "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}

# Errors to Sentry when SENTRY_DSN is set; never with personal data (addresses, cookies, users).
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, environment=QRCARDS_ENV, send_default_pii=False)

# The scanner page's fast path (see bench/scanner.py for what each step buys).
# Each process remembers which workspace a host belongs to, and rendered scanner
# pages, for this long; changes made in the same process are seen at once.
TENANT_HOST_CACHE_SECONDS = 5
SCANNER_PAGE_CACHE_SECONDS = 5
# Behind those, hosts, pages and the day's visitor salts are shared by every process in the cache (lib/shared.py),
# so traffic spread over many workspaces finds them warm. Changes forget them at once; this is a safety net.
SHARED_CACHE_SECONDS = env_int("SHARED_CACHE_SECONDS", 600)
# Where a scanner request hands its scan (scans/recording.py): "redis" (a stream, with the spool as
# its fallback), "spool" (an append-only file per web process on local disk), or "direct" (written
# in the request: tests and the benchmark's baseline). The worker (manage.py run_worker) writes them.
SCANS_QUEUE = env_str("SCANS_QUEUE") or ("redis" if REDIS_URL else "spool")
if SCANS_QUEUE not in ("redis", "spool", "direct"):
    raise ImproperlyConfigured(f"SCANS_QUEUE must be redis, spool or direct; got {SCANS_QUEUE!r}")
SCAN_SPOOL_DIR = Path(env_str("SCAN_SPOOL_DIR") or VAR_DIR / "spool")
# The Redis stream of scans (one per deployment sharing a Redis).
SCAN_STREAM = env_str("SCAN_STREAM") or "qrcards:scans"
# A scan a worker took from Redis and hasn't acknowledged this long after is taken over by another worker.
SCAN_CLAIM_IDLE_SECONDS = env_int("SCAN_CLAIM_IDLE_SECONDS", 60)
# The last good scanner pages and host lookups, on local disk, for when the database is away.
LAST_GOOD_DIR = Path(env_str("LAST_GOOD_DIR") or VAR_DIR / "last-good")


def _dns_servers(items: list[str]) -> list[tuple[str, int]]:
    """DNS_RESOLVERS as (address, port) pairs, from "address" or "address:port" items ("[2001:db8::1]:53")."""
    servers = []
    for item in items:
        if item.startswith("["):  # [2001:db8::1]:53
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif item.count(":") == 1:  # 192.0.2.1:53
            host, port = item.split(":")
        else:  # 192.0.2.1, or an IPv6 address without a port
            host, port = item, "53"
        try:
            if not 0 < int(port) < 65536:
                raise ValueError(port)
            servers.append((str(ip_address(host)), int(port)))
        except ValueError:
            raise ImproperlyConfigured(
                f"DNS_RESOLVERS must list DNS servers' addresses, each with an optional port (192.0.2.1:53): {item!r}"
            ) from None
    return servers


# The DNS servers that check custom domains' records (accounts/domains.py). Unset: the system's (/etc/resolv.conf).
DNS_RESOLVERS = _dns_servers(env_list("DNS_RESOLVERS"))
