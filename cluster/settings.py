"""Settings for Cluster Monitor, driven by environment variables.

The defaults give a working laptop set-up (SQLite file, Celery tasks run in-process,
e-mail printed to the console). Every variable is parsed strictly: a value that cannot
be understood raises ImproperlyConfigured naming the variable, so a typo in production
stops the process instead of silently falling back to a default.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Off unless asked for: a deployment that forgets the variable must not show tracebacks.
# `make run` and the tests turn it on themselves.
DEBUG = env_bool("DEBUG", False)

# No default, not even for a laptop: a key in the repository would sign every session of a
# deployment that forgot to set one. `make run` and the tests set their own.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set: a long random string, e.g. from "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "axes",
    "cluster",
    "enterprises",
    "targets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (SECURE_CSP below).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless marked otherwise (login, language switch).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Control characters in the address or a form, and values views cannot use (a period
    # that is not a quarter): 400 naming the parameter, before anything reaches the database.
    "cluster.middleware.BadRequestMiddleware",
    # A lost database connection answers 503 "nothing saved, try again", not a bare 500.
    "cluster.middleware.DatabaseUnavailableMiddleware",
    # Records request.user as the author of every history row written in a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# --- Security headers, cookies and sessions ---------------------------------------------
# Scripts only from our own static files (ECharts and htmx are vendored): no inline script,
# no eval, no third-party origin. Inline style attributes are allowed (progress bars).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A working day; a session also ends when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Behind TLS (DEBUG off, the production default): HTTPS only, HSTS, secure cookies. A TLS
# proxy in front (nginx) must send X-Forwarded-Proto; set SECURE_SSL_REDIRECT=0 only when the
# proxy itself redirects.
_https = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
# Load balancers probe the health endpoint over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _https else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _https)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
# The health endpoint waits this long for workers to answer a ping.
HEALTH_WORKER_TIMEOUT = env_int("HEALTH_WORKER_TIMEOUT_MS", 1500, minimum=100) / 1000

AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out user is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "targets:home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins (django-axes, every door that takes a password: the login page and the
# admin's): AXES_FAILURE_LIMIT failures lock an account whatever addresses they come from,
# AXES_ADDRESS_FAILURE_LIMIT lock an address whatever usernames it tries (higher: an office
# shares one address), for AXES_COOLOFF_MINUTES after the last failure. While locked, the
# right password is refused too. cluster.login.LockoutHandler gives each its limit.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_ADDRESS_FAILURE_LIMIT = env_int(
    "AXES_ADDRESS_FAILURE_LIMIT", max(20, AXES_FAILURE_LIMIT), minimum=AXES_FAILURE_LIMIT
)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "cluster.login.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "cluster.login.client_address"
# A success does not wipe the failures: it would wipe its address's failures against other
# accounts too, and an attacker holding an account could log in between guesses.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Proxies of ours in front of the app (nginx: 1), each appending to X-Forwarded-For; 0
# trusts no forwarded address (cluster.login.client_address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Password-reset mails asked for per hour from one address and for one e-mail address
# (cluster.login.PasswordResetView); beyond, the form says how long to wait.
PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 5, minimum=1)
PASSWORD_RESETS_PER_ACCOUNT = env_int("PASSWORD_RESETS_PER_ACCOUNT", 3, minimum=1)

ROOT_URLCONF = "cluster.urls"
WSGI_APPLICATION = "cluster.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cluster.context_processors.user_scope",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# Embedded default: a SQLite file beside manage.py. DATABASE_URL switches to PostgreSQL
# (psycopg 3), which is what CI and production run on.
_database_url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from None
if _database["ENGINE"] not in (
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
):
    raise ImproperlyConfigured(
        f"DATABASE_URL must point at PostgreSQL or SQLite; got engine {_database['ENGINE']}"
    )
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while seed_demo or a task writes.
    _database.setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    # The period indexes carry the figures for PostgreSQL's index-only scans (INCLUDE);
    # SQLite builds them without those columns, which is what the embedded default needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    # JIT compilation costs 20-30 ms on each large aggregate and pays off only on analytic
    # queries running for seconds; the pages' aggregates run in tens of milliseconds.
    _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Counts every web process must share (the password-reset throttles): in the database,
    # in a table `python manage.py createcachetable` makes.
    "throttle": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cluster_throttle_cache",
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "cluster" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static files (whitenoise; JS libraries are vendored, never fetched from a CDN) -----
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Serve straight from the apps' static folders too, so a laptop needs no collectstatic.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cluster.api.access.ScopePermission"],
    "DEFAULT_PAGINATION_CLASS": "cluster.api.access.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # Per user (so per token); anonymous callers get 401 anyway.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_THROTTLE_RATE", "5000/hour")},
    "EXCEPTION_HANDLER": "cluster.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cluster Monitor API / 产业集群监测平台接口",
    "DESCRIPTION": (
        "The enterprise register, quarterly reports, targets, progress and alerts of the "
        "Suzhou nano new-materials cluster. Authenticate with `Authorization: Token <key>`. "
        "A district officer's token sees only that district (other objects answer 404). "
        "Errors: {code, message, errors}; messages follow Accept-Language (zh-hans, en). / "
        "企业库、季度报表、目标进度与预警接口。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ReportStatusEnum": "enterprises.choices.ReportStatus",
        "DesignationTypeEnum": "enterprises.choices.DesignationType",
        "EnterpriseStatusEnum": "enterprises.choices.EnterpriseStatus",
        "ProjectStatusEnum": "enterprises.choices.ProjectStatus",
        "AlertStateEnum": "targets.choices.AlertState",
        "TargetStatusEnum": "targets.choices.Status",
        "ScopeKindEnum": "targets.choices.ScopeKind",
        "BasisEnum": "targets.choices.Basis",
        "TierEnum": "enterprises.choices.DesignationTier",
        "LevelEnum": "enterprises.choices.ProjectLevel",
        "MilestoneKindEnum": "enterprises.choices.MilestoneKind",
    },
}

# --- Celery -----------------------------------------------------------------------------
# Without CELERY_BROKER_URL tasks run in-process (eager) so the laptop set-up needs no
# broker; with it (redis://...) a real worker consumes them.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if CELERY_BROKER_URL and not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL must be a redis:// or rediss:// URL; got {CELERY_BROKER_URL!r}"
    )
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task taken by a worker that dies without acknowledging it goes back to the queue after
# this many seconds (Redis transport); it must exceed the longest task.
_visibility = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility,
    # Look for such abandoned tasks at least this often.
    "unacked_restore_interval": min(10, _visibility),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 3,
}
# With Redis down, a page that enqueues a job waits at most about a second before the job is
# left in the outbox (cluster.jobs) for later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- E-mail -----------------------------------------------------------------------------
# Django 6.1's MAILERS; the SMTP options are read only when the SMTP backend is chosen.
# Printed to the console on a laptop (DEBUG), sent by SMTP in production.
_mail_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_mail_options = {}
if _mail_backend == "django.core.mail.backends.smtp.EmailBackend":
    _mail_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25, minimum=1),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    }
elif _mail_backend == "django.core.mail.backends.filebased.EmailBackend":
    # One file per message: for a demo or a test whose worker runs in another process.
    _mail_options = {"file_path": env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))}
MAILERS = {"default": {"BACKEND": _mail_backend, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cluster-monitor@localhost")
# The address e-mailed briefs link back to (a worker has no request to take it from).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must be an http:// or https:// address; got {SITE_URL!r}")

# --- Domain settings --------------------------------------------------------------------
# Quarterly reports are due this many days after the quarter ends (completeness, overdue).
REPORT_DEADLINE_DAYS = env_int("REPORT_DEADLINE_DAYS", 15, minimum=0)
# Four-eyes review: whoever entered or last changed a report's figures does not approve or
# return it. Off only for a one-person office.
REPORT_FOUR_EYES = env_bool("REPORT_FOUR_EYES", True)
# A figure that moves more than this share against the previous quarter needs a note.
REPORT_JUMP_THRESHOLD = env_int("REPORT_JUMP_THRESHOLD_PERCENT", 50, minimum=1) / 100
# Where uploaded import files wait between preview and confirmation.
IMPORT_TMP_DIR = Path(env_str("IMPORT_TMP_DIR", str(BASE_DIR / "var" / "imports")))

# Import files are read into memory whole; refuse anything bigger before parsing it.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024)
# An xlsx is a zip archive: refuse one that unpacks to more than this before parsing it.
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int(
    "IMPORT_MAX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024, minimum=1024
)
# Rows per API bulk call (the same check as an import file, held in memory).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000, minimum=1)
# A money figure this many times an earlier quarter's (or that-many-th of it), or above this
# amount for one firm in one quarter, is refused as a probable unit mistake (元 vs 万元).
REPORT_UNIT_MISTAKE_RATIO = env_int("REPORT_UNIT_MISTAKE_RATIO", 1000, minimum=2)
REPORT_MAX_QUARTERLY_YUAN = env_int("REPORT_MAX_QUARTERLY_YUAN", 100_000_000_000, minimum=1)
# Request bodies other than uploaded files (API JSON) are held in memory: bound them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "DATA_UPLOAD_MAX_MEMORY_BYTES", 10 * 1024 * 1024, minimum=1024
)
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

SIMPLE_HISTORY_REVERT_DISABLED = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Logins, failed logins, lockouts and refused access.
    "loggers": {
        "cluster.security": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # WeasyPrint reports every layout step of the brief's PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
