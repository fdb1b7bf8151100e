"""CivicGrid settings. Every deploy-time value comes from an environment variable (see docs/operations.md).

Embedded mode (the default): SQLite under ``var/``, a secret key generated once into ``var/secret_key``,
no map tiles, served by gunicorn on 127.0.0.1. Production: set DATABASE_URL (PostgreSQL), SECRET_KEY,
FIELD_ENCRYPTION_KEY, ALLOWED_HOSTS, and run ``collectstatic`` behind a web server.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from xstatic.pkg import leaflet as xstatic_leaflet

from civicgrid.lib.env import env_bool, env_choice, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CIVICGRID_VAR_DIR", str(BASE_DIR / "var")))
# Real data lives beside the repository (../shared/data); loaders read it in place, never copy it in.
SHARED_DATA_DIR = Path(env_str("CIVICGRID_SHARED_DATA", str(BASE_DIR.parent / "shared" / "data")))

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("CIVICGRID_TESTING", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY", "")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
        return key
    # Embedded mode: one random key per installation, kept out of the repository.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Personal data (phones, ID numbers) is encrypted with keys separate from SECRET_KEY in production;
# comma-separated, the first encrypts, all decrypt (key rotation). Empty: derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "axes",
    "civicgrid.core",
    "civicgrid.jurisdictions",
    "civicgrid.accounts",
    "civicgrid.grids",
    "civicgrid.workcalendar",
    "civicgrid.notifications",
    "civicgrid.cases",
    "civicgrid.portal",
    "civicgrid.hotline",
    "civicgrid.services",
    "civicgrid.fieldwork",
    "civicgrid.overview",
    "civicgrid.open311",
    "civicgrid.stats",
    "civicgrid.assessment",
    "civicgrid.triage",
    "civicgrid.demo",
]

# Every form field renders through core/field.html (label, help, errors at the field, aria wiring).
FORM_RENDERER = "civicgrid.core.forms.CivicFormRenderer"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into a response.
    "axes.middleware.AxesMiddleware",
]
# Server-Timing on every response (the page-time figures in docs/benchmarks.md read it); outermost, so it
# times everything below it.
MIDDLEWARE.insert(0, "civicgrid.core.middleware.server_timing")

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicgrid.core.context_processors.site",
            ],
        },
    },
]

DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'civicgrid.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql"),
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web server read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The few hand-written statements on the busiest paths (civicgrid.lib.sqlrows) are bound server-side,
    # and psycopg prepares one after it ran this many times on a connection, so PostgreSQL plans it once
    # per connection instead of on every intake. The ORM's own queries are bound client-side and never
    # prepared. Set DB_PREPARE_THRESHOLD=0 behind a pooler that cannot keep prepared statements
    # (PgBouncer before 1.21 in transaction mode).
    _prepare = env_int("DB_PREPARE_THRESHOLD", 5)
    DATABASES["default"]["OPTIONS"] = {"prepare_threshold": _prepare if _prepare > 0 else None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lock-out after repeated failed logins: per username *and* address, so a stranger cannot lock a
# colleague out from elsewhere by guessing at their username.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie, but keep the default
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Leaflet comes from its PyPI package (xstatic-leaflet); htmx comes inside django-htmx.
STATICFILES_DIRS = [("leaflet", xstatic_leaflet.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if DEBUG or TESTING:
    # Serve straight from the apps' static folders; no collectstatic needed.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
if TESTING:
    # Tests create many accounts; the production hasher would spend seconds per test on purpose.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# Base-map tiles: a URL template such as https://tile.example.org/{z}/{x}/{y}.png. Empty (the default)
# shows boundaries and grid cells on a blank background, which is how the app runs offline.
MAP_TILE_URL = env_url("MAP_TILE_URL", "", allow_empty=True)
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Notification delivery, one backend per channel (civicgrid/notifications/backends.py). SMS and e-mail
# are only logged (phone masked) until a gateway backend is configured; a bad path stops start-up.
_LOG_BACKEND = "civicgrid.notifications.backends.LogBackend"
NOTIFICATION_BACKENDS = {
    "in_app": "civicgrid.notifications.backends.InAppBackend",
    "sms": env_str("NOTIFY_SMS_BACKEND", "") or _LOG_BACKEND,
    "email": env_str("NOTIFY_EMAIL_BACKEND", "") or _LOG_BACKEND,
}

CIVICGRID_SITE_NAME = _("CivicGrid")

# Process caches (grid index, working calendar, time limits) ask the database whether their tables changed
# at most this often; a change made through an action in the same process drops the cache at once. Tests
# use 0 so that rows written in a test's transaction are seen at once.
CACHE_RECHECK_SECONDS = 0.0 if TESTING else float(env_int("CACHE_RECHECK_SECONDS", 2))

# Cases (civicgrid/cases). Time limits, categories and escalation rules are data in the admin, not here.
# Photos larger than this are refused at intake (the field and the file are named in the error).
CASE_PHOTO_MAX_BYTES = env_int("CASE_PHOTO_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# The largest request body Django reads into memory (JSON with base64 photos is 4/3 of the photos' size).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 32 * 1024 * 1024, minimum=1024 * 1024)
# Where a case from the public (web, Open311, no staff actor) starts: the place's ancestor at this level.
CASE_PUBLIC_INTAKE_LEVEL = env_choice(
    "CASE_PUBLIC_INTAKE_LEVEL", "county", choices=("city", "county", "township", "community")
)
# The most cases one CSV / .xlsx export of the case list may hold; a larger list is refused (narrow the
# filters) rather than cut short without a word.
CASE_EXPORT_MAX_ROWS = env_int("CASE_EXPORT_MAX_ROWS", 100_000, minimum=1)
