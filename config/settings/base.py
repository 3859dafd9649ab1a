"""Settings shared by every environment.

Everything that differs between machines is read from the environment here, in one place:
SECRET_KEY, DEBUG, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, GRPO_DATA_DIR and the limits below.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.broker import queue_prefix_for, redis_broker_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEFAULT_SECRET_KEY = "dev-insecure-grpo-studio-secret-key-change-me"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer (got {value!r})") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Everything the app writes (SQLite file, exports, training outputs, logs) lives here.
DATA_DIR = Path(os.environ.get("GRPO_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
EXPORT_DIR = DATA_DIR / "exports"
TRAINING_DIR = DATA_DIR / "training"
MODELS_DIR = DATA_DIR / "models"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and a worker share the SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_dramatiq",
    "axes",
    "ranking_app",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.server_timing.ServerTimingMiddleware",  # Server-Timing: app;dur=ms (the load benchmark reads it)
    "config.outage.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "ranking_app.middleware.RefuseUnstorableTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Database unavailable: a 503 page / problem detail with this Retry-After (config/outage.py).
DATABASE_RETRY_AFTER_SECONDS = env_int("GRPO_RETRY_AFTER_SECONDS", 30)

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair gets 429 for the cool-off time, even with the right password.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("GRPO_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("GRPO_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Content-Security-Policy: scripts only from our own static files (no inline script or handler).
# Inline style attributes stay allowed: progress bars set their width that way.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "ranking_app.context_processors.roles",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Upload limits (bytes). Import files are streamed to disk, so the request body limit only
# bounds form fields; the file limit is enforced by the importer itself.
IMPORT_MAX_FILE_BYTES = env_int("GRPO_IMPORT_MAX_FILE_BYTES", 200 * 1024 * 1024)
IMPORT_MAX_TEXT_CHARS = env_int("GRPO_IMPORT_MAX_TEXT_CHARS", 100_000)
IMPORT_MIN_RESPONSES = 2
IMPORT_MAX_RESPONSES = env_int("GRPO_IMPORT_MAX_RESPONSES", 100)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Labeling queue: how long a handed-out prompt stays reserved for one labeler.
ASSIGNMENT_LEASE_MINUTES = env_int("GRPO_ASSIGNMENT_LEASE_MINUTES", 30)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing or bad token a 401 (not 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only (the import endpoint also takes a multipart file), with depth and text limits.
    "DEFAULT_PARSER_CLASSES": ["ranking_app.api.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "ranking_app.api.common.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "GRPO Studio API",
    "DESCRIPTION": "Ranked human preferences, inter-annotator agreement, exports and GRPO training jobs.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI 3.1 (JSON Schema 2020-12): `propertyNames` states that keys, too, hold no control character.
    "OAS_VERSION": "3.1.0",
    # Every operation documents its real error answers (one `Error` shape): ranking_app/api/schema.py.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "ranking_app.api.schema.document_errors"],
    # Several models have a `status` field; name each choice set after its model (exchange/API area).
    "ENUM_NAME_OVERRIDES": {
        "RankingStatusEnum": "ranking_app.models.Ranking.Status",
        "ImportFormatEnum": "ranking_app.exchange.formats.FORMATS",
    },
}

# Every key this deployment writes in Redis starts with GRPO_QUEUE_PREFIX, so two deployments sharing
# one Redis database never take each other's messages. Default: derived from the database it uses.
GRPO_QUEUE_PREFIX = os.environ.get("GRPO_QUEUE_PREFIX") or queue_prefix_for(DATABASES["default"])
# A send to an unreachable or hung Redis fails within about a second (no retries), so a launch says so
# at once and marks its job failed instead of hanging the request.
REDIS_CONNECT_TIMEOUT_SECONDS = 1.0
REDIS_SOCKET_TIMEOUT_SECONDS = 1.5
DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": redis_broker_options(
        REDIS_URL, GRPO_QUEUE_PREFIX, connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
    ),
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "training.worker_middleware.QueueSweeper",
    ],
}
# The worker's sweeper (training/services/sweeper.py): every GRPO_SWEEP_SECONDS (0: off) it sends again
# the message of work queued for over GRPO_SWEEP_GRACE_SECONDS with no message left in Redis.
GRPO_SWEEP_SECONDS = env_int("GRPO_SWEEP_SECONDS", 60)
GRPO_SWEEP_GRACE_SECONDS = env_int("GRPO_SWEEP_GRACE_SECONDS", 120)
DRAMATIQ_RESULT_BACKEND = None
DRAMATIQ_TASKS_DATABASE = "default"
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks", "compare.tasks"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Training jobs (training app). A worker writes heartbeat + progress every HEARTBEAT seconds; a
# running job whose heartbeat is older than STALE seconds counts as interrupted (worker lost).
TRAINING_HEARTBEAT_SECONDS = float(os.environ.get("GRPO_TRAINING_HEARTBEAT_SECONDS", "5"))
TRAINING_STALE_SECONDS = float(os.environ.get("GRPO_TRAINING_STALE_SECONDS", "60"))
TRAINING_TIME_LIMIT_HOURS = float(os.environ.get("GRPO_TRAINING_TIME_LIMIT_HOURS", "72"))
# torch CPU threads of a worker's jobs; 1 suits the tiny CPU smoke model on a shared machine, 0 keeps
# torch's default (one per core) for larger CPU-only runs on an idle machine.
TRAINING_CPU_THREADS = int(os.environ.get("GRPO_TRAINING_CPU_THREADS", "1"))
# Where a training run executes (training/launchers, docs/scaling.md): "local" runs the engine as a child
# process of the worker; "ray" submits it to the Ray cluster at RAY_ADDRESS (its dashboard/job server URL).
# Artefacts (exports, checkpoints, adapters, metrics, evaluations) live under GRPO_STORAGE_URL: the data dir
# by default, or a URL both sides reach (s3://bucket/prefix with s3fs; AWS_* variables for credentials).
GRPO_LAUNCHER = os.environ.get("GRPO_LAUNCHER", "local")
RAY_ADDRESS = os.environ.get("RAY_ADDRESS", "http://127.0.0.1:8265")
GRPO_STORAGE_URL = os.environ.get("GRPO_STORAGE_URL", "") or str(DATA_DIR)
GRPO_LAUNCHER_GPUS = env_int("GRPO_LAUNCHER_GPUS", 0)  # GPUs one job may ask for; >0 offers the multi-GPU configs
GRPO_LAUNCHER_POLL_SECONDS = float(os.environ.get("GRPO_LAUNCHER_POLL_SECONDS", "1"))
# A local run that no worker has followed for this long (its worker died and none re-attached) stops
# itself with a checkpoint; keep it above GRPO_TRAINING_STALE_SECONDS + GRPO_SWEEP_SECONDS + a restart.
GRPO_LOCAL_ORPHAN_SECONDS = float(os.environ.get("GRPO_LOCAL_ORPHAN_SECONDS", "600"))
GRPO_RAY_PYTHON = os.environ.get("GRPO_RAY_PYTHON", "python")  # the interpreter on the Ray nodes
GRPO_RAY_RUNTIME_ENV = json.loads(os.environ.get("GRPO_RAY_RUNTIME_ENV", "") or "{}")  # merged into the runtime_env
