"""QRCards settings: one module, configured by environment variables (see .env.example)."""

from __future__ import annotations

import secrets
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from qrcards.env import env_bool, env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def _secret_key() -> str:
    """SECRET_KEY from the environment, or one generated once into var/ for development."""
    if key := env_str("SECRET_KEY"):
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

SHARED_APPS = [
    "django_tenants",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_htmx",
    # The API's docs page serves the Swagger UI that ships with django-ninja, not one from a CDN.
    "ninja",
    # Accounts are global, so allauth's tables live in the public schema only.
    "allauth",
    "allauth.account",
    "allauth.mfa",
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
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "qrcards.middleware.refuse_nul_in_address",  # first: nothing behind it ever sees a NUL in the address
    "accounts.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "qrcards_cache"}
    )
    # Every key carries the schema it was made in, so no workspace can read another's entries.
    | {"KEY_FUNCTION": "django_tenants.cache.make_key", "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key"},
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

# Accounts (django-allauth): e-mail is the login; no usernames, no social log-in.
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
}
# Links in e-mails: https, except in development (*.localhost has no certificate).
_LOCAL = DEBUG or QRCARDS_DOMAIN == "localhost" or QRCARDS_DOMAIN.endswith(".localhost")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env_str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", "http" if _LOCAL else "https")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
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
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_SSL = _email.ssl
EMAIL_USE_TLS = _email.tls
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"QRCards <noreply@{QRCARDS_DOMAIN}>")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Static file names carry a content hash, so browsers may keep them for a year.
WHITENOISE_MAX_AGE = 365 * 24 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}

# The scanner page's fast path (see bench/scanner.py for what each step buys).
# Each process remembers which workspace a host belongs to, and rendered scanner
# pages, for this long; changes made in the same process are seen at once.
TENANT_HOST_CACHE_SECONDS = 5
SCANNER_PAGE_CACHE_SECONDS = 5
# Scans are buffered in process and written in batches by a background thread
# (scans/recording.py); off, each scan is written before the page is returned.
SCANS_WRITE_BEHIND = True
