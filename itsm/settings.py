"""Settings, read from the environment.

With nothing set this is the *embedded default*: SQLite and a file-system Celery broker under
``var/``, DEBUG off, mail written to files. Production sets ``DATABASE_URL``, ``REDIS_URL`` (or
``CELERY_BROKER_URL``), ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``EMAIL_URL`` and ``DEBUG=0``.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


VAR_DIR = Path(env_str("ITSM_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The embedded default (no DATABASE_URL: SQLite, no servers) is the product as people try it:
# DEBUG off, so every page a user can reach, errors included, is the product's own. With a
# DATABASE_URL (development, tests, production) DEBUG follows the variable, on unless set to 0;
# production sets DEBUG=0 (the image and the compose file do, `make check-deploy` checks it).
EMBEDDED = not os.environ.get("DATABASE_URL")
DEBUG = env_bool("DEBUG", default=not EMBEDDED)
# The login page lists the demo accounts when they exist, in the embedded default only.
DEMO_LOGINS = env_bool("DEMO_LOGINS", default=EMBEDDED)


def _embedded_secret_key() -> str:
    """A per-install random key kept under var/, for the embedded default only."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not EMBEDDED:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _embedded_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG or EMBEDDED else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "itsm",
    "accounts",
    "incidents",
    "problems",
    "changes",
    "cmdb",
    "catalog",
    "sla",
    "portal",
    "reports",
    "mailgate",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "itsm.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "itsm.middleware.RefuseNulQueryMiddleware",
    "itsm.middleware.RefuseLargeUploadMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a locked-out sign-in into its page
]

ROOT_URLCONF = "itsm.urls"
WSGI_APPLICATION = "itsm.wsgi.application"

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
                "itsm.context_processors.navigation",
                "itsm.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'itsm.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Reports and exports read from a streaming replica when there is one (reports/replica.py).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        env_str("DATABASE_REPLICA_URL"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
        test_options={"MIRROR": "default"},
    )
DATABASE_ROUTERS = ["reports.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rendered Markdown) ---------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "itsm",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files and attachments ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/cytoscape", NODE_MODULES / "cytoscape" / "dist"),
    ("vendor/cytoscape-dagre", NODE_MODULES / "cytoscape-dagre" / "dist"),
]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media"), "base_url": None},
    },
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("ATTACHMENTS_ROOT", str(VAR_DIR / "attachments"))},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or EMBEDDED
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# A whole request (several files and the form): larger ones are refused (413) unread.
UPLOAD_MAX_REQUEST_BYTES = env_int(
    "UPLOAD_MAX_REQUEST_BYTES", 5 * ATTACHMENT_MAX_BYTES + 1024 * 1024
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Browser features no page of the desk uses, refused to every page and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
# Content-Security-Policy on every response (django-csp): scripts and styles from our own static
# files only (no inline script, no style attribute, no eval); images from the desk itself and
# data: URIs (Bootstrap's icons). Downloads keep their own sandboxing policy (itsm.attachments).
# CSP_REPORT_URI: where browsers post violation reports (an operator's collector), if set.
_csp_report_uri = env_str("CSP_REPORT_URI")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    },
}
# The embedded default serves its static files straight from the packages (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG or EMBEDDED
if not DEBUG and not EMBEDDED:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# --- Email ------------------------------------------------------------------------------------


def email_settings(url: str) -> dict:
    """Django email settings from ``EMAIL_URL``: ``file:///dir``, ``smtp://``, ``smtps://``,
    ``console://`` or ``locmem://``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return {
            "EMAIL_BACKEND": "itsm.mail.FileBackend",
            "EMAIL_FILE_PATH": unquote(parsed.path),
        }
    if parsed.scheme in {"smtp", "smtps"}:
        query = parse_qs(parsed.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname or "localhost",
            "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_SSL": parsed.scheme == "smtps",
            "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in {"1", "true"},
            "EMAIL_TIMEOUT": 20,
        }
    if parsed.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    raise ImproperlyConfigured(f"EMAIL_URL: unsupported scheme {parsed.scheme!r}")


globals().update(email_settings(env_str("EMAIL_URL", f"file://{VAR_DIR / 'mail'}")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Service Desk <servicedesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The right-hand side of our Message-IDs (default: the domain of DEFAULT_FROM_EMAIL).
EMAIL_DOMAIN = env_str("EMAIL_DOMAIN")
# Where replies go when it is not the sender address (the mailbox the gateway reads).
EMAIL_REPLY_TO = env_str("EMAIL_REPLY_TO")
# Mail sent back to us becomes comments (an MTA pipe or IMAP_URL feeds ingest_email): the
# emails then say "reply to this email" and carry the line replies are cut at.
EMAIL_REPLIES = env_bool("EMAIL_REPLIES", default=bool(env_str("IMAP_URL")))
# Delivery: a temporary refusal waits 1, 2, 4... minutes (at most an hour) before the next
# attempt; a row left "sending" by a worker that died is due again after the lease.
NOTIFICATION_RETRY_SECONDS = env_int("NOTIFICATION_RETRY_SECONDS", 60)
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 600)
# The sweep mails a pending row this long after it was written (before, its own task should).
NOTIFICATION_SWEEP_GRACE_SECONDS = env_int("NOTIFICATION_SWEEP_GRACE_SECONDS", 20)
# Approval links in emails work once, for this many seconds.
APPROVAL_LINK_MAX_AGE = env_int("APPROVAL_LINK_MAX_AGE", 7 * 24 * 3600)

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    # Each poll of the folder takes at most the prefetch window (kombu's default: one poll a
    # second, so two tasks a second). A message is gone from the folder once read, so a wider
    # window loses nothing that a narrow one would keep.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 8
else:
    # A web process that cannot reach the broker gives up at once (itsm.broker.send): the
    # database rows the write left are done by the sweeps, and the request does not wait the
    # seconds of kombu's default connection retries. Workers reconnect on their own schedule.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "max_retries": 0,
        "socket_connect_timeout": 2,
    }
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
NOTIFICATION_SWEEP_SECONDS = env_int("NOTIFICATION_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "sweep-notifications": {
        "task": "itsm.tasks.sweep_notifications",
        "schedule": NOTIFICATION_SWEEP_SECONDS,
    },
    "auto-close-incidents": {
        "task": "incidents.tasks.auto_close_resolved",
        "schedule": env_int("INCIDENT_AUTO_CLOSE_CHECK_SECONDS", 3600),
    },
}

# --- Inbound mail (the mail gateway: manage.py ingest_email, the IMAP poll) -----------------
# Mail from an address no account has: "reject" (a reply says why) or "create" (an end-user
# account without a usable password, and the incident).
INBOUND_UNKNOWN_SENDERS = env_str("INBOUND_UNKNOWN_SENDERS", "reject")
if INBOUND_UNKNOWN_SENDERS not in ("reject", "create"):
    raise ImproperlyConfigured("INBOUND_UNKNOWN_SENDERS must be reject or create.")
# Other addresses of ours (aliases of the desk's mailbox): mail from them is a loop.
INBOUND_ADDRESSES = env_list("INBOUND_ADDRESSES")
# imaps://user:password@host[:993]/Folder (or imap://...?starttls=1): polled by beat.
IMAP_URL = env_secret("IMAP_URL")
IMAP_POLL_SECONDS = env_int("IMAP_POLL_SECONDS", 60)
if IMAP_URL:
    CELERY_BEAT_SCHEDULE["poll-imap"] = {
        "task": "mailgate.tasks.poll_imap",
        "schedule": IMAP_POLL_SECONDS,
        "options": {"expires": max(IMAP_POLL_SECONDS, 5)},
    }

# --- Sign-in protection -----------------------------------------------------------------------
# Reverse proxies in front of the web process (nginx: 1): who the caller is comes from the
# X-Forwarded-For entry the nearest trusted proxy wrote, never from one a client could forge.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
# django-axes: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is refused (429) for LOGIN_LOCKOUT_MINUTES; a success clears the count. Attempts are
# kept in the database (works the same embedded and in production); `manage.py axes_reset`
# lifts every lock.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
# Failed sign-ins from one address, all usernames together (spraying): see accounts.signin.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
# API tokens expire this long after they were issued.
API_TOKEN_LIFETIME = timedelta(days=env_int("API_TOKEN_DAYS", 30))
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.signin.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; a row per successful sign-in is not needed
AXES_VERBOSE = False  # no banner on every command; lockouts are still logged

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "itsm.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "itsm.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ITSM service desk API",
    "DESCRIPTION": "Incidents, problems, changes, CMDB, service catalog and SLAs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # What a response holds depends on who reads it (an end user reads fewer fields of a
    # ticket): no read-only field is promised in every answer.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "incidents.workflow.Level",
        "NotificationKindEnum": "itsm.models.Notification.Kind",
    },
}

# --- Product settings ---------------------------------------------------------------------------
INCIDENT_AUTO_CLOSE_DAYS = env_int("INCIDENT_AUTO_CLOSE_DAYS", 3)
# New incidents nobody routed (no CI or service with a support group) go to this team.
INCIDENT_DEFAULT_TEAM = env_str("INCIDENT_DEFAULT_TEAM", "Service Desk")
SLA_SCAN_SECONDS = env_int("SLA_SCAN_SECONDS", 30)
# A timer whose processing raised (its batch is then done one timer at a time) is checked again
# after this long, so it neither blocks the other timers nor is retried in a loop.
SLA_RETRY_SECONDS = env_int("SLA_RETRY_SECONDS", 300)
# The SLA scanner (sla.tasks.scan): a scan that waited longer than one interval is dropped, the
# next one does its work (no pile-up of scans while workers are down).
CELERY_BEAT_SCHEDULE["sla-scan"] = {
    "task": "sla.tasks.scan",
    "schedule": SLA_SCAN_SECONDS,
    "options": {"expires": max(SLA_SCAN_SECONDS, 5)},
}
# The longest list a CSV download holds (itsm.exports): past it the download is refused with a
# message, since one that outlives the web worker's timeout (60 s) would be cut off part-way.
LIST_EXPORT_MAX_ROWS = env_int("LIST_EXPORT_MAX_ROWS", 50_000)
# The daily roll-up of the incident reports (reports.tasks.roll_up_days): days changed since
# they were rolled, and days never rolled, are rolled this often (until then they are read live).
REPORT_ROLLUP_SECONDS = env_int("REPORT_ROLLUP_SECONDS", 300)
CELERY_BEAT_SCHEDULE["report-rollup"] = {
    "task": "reports.tasks.roll_up_days",
    "schedule": REPORT_ROLLUP_SECONDS,
    "options": {"expires": max(REPORT_ROLLUP_SECONDS, 5)},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # the level on the handler too: Django's own loggers (django.request's 404 warnings) have
    # a level of their own and reach the root's handler whatever the root's level is
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "level": env_str("LOG_LEVEL", "INFO"),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
