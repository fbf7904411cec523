"""Settings shared by every environment.

Environment variables are read here and only here (django-environ). Local and
test settings add defaults; production settings demand real values.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.is_file():
    env.read_env(str(env_file))

# General
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SITE_NAME = "Picsort"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
]
# Our catalogue first; then allauth's strings reworded for one wording and
# formal Spanish (they override allauth's own translations).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "allauth"]
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Databases: SQLite by default, anything else through DATABASE_URL.
# ------------------------------------------------------------------------------


def _database(url: str, *, conn_max_age: int = 0) -> dict:
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=conn_max_age)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work while a writer writes; IMMEDIATE plus a busy
        # timeout makes concurrent writers wait instead of failing.
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    return config


DATABASES = {
    "default": _database(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: rate limits live here, so production must share them between processes.
# ------------------------------------------------------------------------------
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}

# URLs and apps
# ------------------------------------------------------------------------------
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

DJANGO_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.admin",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.openid_connect",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks_db",
]
LOCAL_APPS = [
    "accounts",
    "models_registry",
    "classification",
    "training",
    "evaluation",
    "webhooks",
]
# core first among the rest: its db_worker (which outlives database restarts)
# replaces django_tasks_db's command of the same name.
INSTALLED_APPS = [*DJANGO_APPS, "core", *THIRD_PARTY_APPS, *LOCAL_APPS]

# Authentication
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
# Signing in (or confirming an address) lands on Classify unless ?next= says otherwise.
LOGIN_REDIRECT_URL = "classification:classify"
LOGOUT_REDIRECT_URL = "core:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Middleware
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    "core.metrics.RequestLatencyMiddleware",
    "core.probes.ProbeMiddleware",  # before host validation and the SSL redirect
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# Static and media files
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"  # never served publicly; downloads go through views
STORAGES = {
    "default": {"BACKEND": "core.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Media (images, examples, model files) in S3-compatible object storage, so web
# and worker processes on many machines share them: set the bucket to switch.
if S3_BUCKET := env("DJANGO_S3_BUCKET", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("DJANGO_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("DJANGO_S3_REGION", default="") or None,
            "access_key": env("DJANGO_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("DJANGO_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env("DJANGO_S3_PREFIX", default=""),
            "default_acl": None,  # private objects; files are served through views
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

# Templates
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# Security
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    # OAuth sign-in posts to us, then redirects to the provider's site.
    "form-action": ["'self'", "https:"],
}
ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/")

# Email
# ------------------------------------------------------------------------------


def _mailer(url: str) -> dict:
    """DJANGO_EMAIL_URL -> one MAILERS entry, e.g. smtp+tls://user:pw@host:587."""
    config = env.email_url_config(url)
    # Console and file messages are written with whole lines (core.mail).
    backend = {
        "django.core.mail.backends.console.EmailBackend": "core.mail.ConsoleEmailBackend",
        "django.core.mail.backends.filebased.EmailBackend": "core.mail.FileEmailBackend",
    }.get(config["EMAIL_BACKEND"], config["EMAIL_BACKEND"])
    options: dict = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": config["EMAIL_HOST"],
            "port": config["EMAIL_PORT"],
            "username": config["EMAIL_HOST_USER"] or "",
            "password": config["EMAIL_HOST_PASSWORD"] or "",
            "use_tls": config.get("EMAIL_USE_TLS", False),
            "use_ssl": config.get("EMAIL_USE_SSL", False),
            "timeout": 10,
        }
    elif backend.endswith("FileEmailBackend"):
        options = {"file_path": config["EMAIL_FILE_PATH"] or str(BASE_DIR / "sent_emails")}
    return {"BACKEND": backend, "OPTIONS": options}


# Local default: messages are printed by the server (copy the link from there).
MAILERS = {"default": _mailer(env("DJANGO_EMAIL_URL", default="consolemail://"))}
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Picsort <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# django-allauth
# ------------------------------------------------------------------------------
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Confirming the address in the browser that signed up signs the user in
# (allauth only does so in that session: a leaked link signs no one in).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Picsort] "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated here so they are visible; failed logins are
    # limited per IP and per account (key = the email address tried).
    "login": "30/m/ip",
    "login_failed": env("DJANGO_LOGIN_FAILED_RATE", default="10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("DJANGO_HTTP_PROTOCOL", default="http")
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False


def _social_providers() -> dict:
    """OAuth providers exist only when their credentials are in the environment."""
    providers: dict = {}
    if client_id := env("DJANGO_GITHUB_CLIENT_ID", default=""):
        providers["github"] = {
            "SCOPE": ["user:email"],
            "APPS": [{"client_id": client_id, "secret": env("DJANGO_GITHUB_SECRET")}],
        }
    if client_id := env("DJANGO_GOOGLE_CLIENT_ID", default=""):
        providers["google"] = {
            "SCOPE": ["openid", "profile", "email"],
            "AUTH_PARAMS": {"prompt": "select_account"},
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [{"client_id": client_id, "secret": env("DJANGO_GOOGLE_SECRET")}],
        }
    if client_id := env("DJANGO_OIDC_CLIENT_ID", default=""):
        providers["openid_connect"] = {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": env("DJANGO_OIDC_PROVIDER_ID", default="oidc"),
                    "name": env("DJANGO_OIDC_NAME", default="OpenID Connect"),
                    "client_id": client_id,
                    "secret": env("DJANGO_OIDC_SECRET"),
                    "settings": {"server_url": env("DJANGO_OIDC_SERVER_URL")},
                }
            ],
        }
    return providers


SOCIALACCOUNT_PROVIDERS = _social_providers()

# Django REST framework
# ------------------------------------------------------------------------------
# No project-wide filter backend: a list with a FilterSet names
# django_filters' DjangoFilterBackend itself (classification.filters). As a
# default, the schema generator would call every list's get_queryset with an
# anonymous request and warn.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A token needs the scope its view declares (accounts.scopes).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.scopes.TokenHasScope",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Operations name the token scope they need (accounts.schema).
    "DEFAULT_SCHEMA_CLASS": "accounts.schema.ScopedAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.ratelimits.UserRateThrottle",
        "core.ratelimits.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("DJANGO_THROTTLE_USER", default="3000/hour"),
        "anon": env("DJANGO_THROTTLE_ANON", default="60/minute"),
    },
}
# Per user and action, counted together for the pages and the API (core.ratelimits).
RATE_LIMITS = {
    "classify": env("DJANGO_THROTTLE_CLASSIFY", default="600/minute"),  # requests
    "batch": env("DJANGO_THROTTLE_BATCH", default="60/hour"),
    "examples": env("DJANGO_THROTTLE_EXAMPLES", default="60/hour"),  # example uploads
    # Each test event is a delivery retried up to WEBHOOK_MAX_ATTEMPTS times.
    "webhook_test": env("DJANGO_THROTTLE_WEBHOOK_TEST", default="10/hour"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Picsort API",
    "DESCRIPTION": "Classify images, follow batch jobs, and read the model registry.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from the sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Batches, training runs and example imports share one set of job statuses.
    "ENUM_NAME_OVERRIDES": {"JobStatusEnum": "core.models.LeasedJob.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_error_responses",
        "core.schema.one_body_per_operation",
    ],
}

# Background tasks (django.tasks with the database backend)
# ------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "batches", "training", "models"],
    }
}

# Logging
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "tf2onnx": {"level": "WARNING"},
        "absl": {"level": "WARNING"},
    },
}

# Accounts
# ------------------------------------------------------------------------------
API_TOKENS_PER_USER = env.int("DJANGO_API_TOKENS_PER_USER", default=10)
ACCOUNT_ALLOW_SIGNUP = env.bool("DJANGO_ACCOUNT_ALLOW_SIGNUP", default=True)

# Models and inference
# ------------------------------------------------------------------------------
# Threads per ONNX Runtime session; 0 lets ONNX Runtime use every core.
INFERENCE_THREADS = env.int("DJANGO_INFERENCE_THREADS", default=0)
# "auto": a version's int8 variant serves when it passed its gate; "fp32": never.
INFERENCE_PRECISION = env.str("DJANGO_INFERENCE_PRECISION", default="auto")
if INFERENCE_PRECISION not in ("auto", "fp32"):
    raise ImproperlyConfigured("DJANGO_INFERENCE_PRECISION must be auto or fp32.")
# Validation, training and bootstrap build an int8 variant of every model (about
# half a minute of a models worker's time for EfficientNet-Lite0); off: fp32 only.
MODEL_INT8_VARIANTS = env.bool("DJANGO_MODEL_INT8_VARIANTS", default=True)
# How long a process may keep answering with the version an alias pointed to.
ALIAS_CACHE_SECONDS = env.float("DJANGO_ALIAS_CACHE_SECONDS", default=2.0)
IMAGE_MAX_PIXELS = env.int("DJANGO_IMAGE_MAX_PIXELS", default=40_000_000)
# All the images of one request together (JPEGs count at their reduced size).
UPLOAD_MAX_REQUEST_PIXELS = env.int("DJANGO_UPLOAD_MAX_REQUEST_MEGAPIXELS", default=500) * 10**6
MODEL_MAX_UPLOAD_BYTES = env.int("DJANGO_MODEL_MAX_UPLOAD_MB", default=500) * 2**20
MODEL_MAX_UNCOMPRESSED_BYTES = env.int("DJANGO_MODEL_MAX_UNCOMPRESSED_MB", default=1500) * 2**20
MODEL_MAX_ARCHIVE_MEMBERS = 50
# Each upload is validated in its own child process with these limits (and no network).
MODEL_VALIDATION_MEMORY_MB = env.int("DJANGO_MODEL_VALIDATION_MEMORY_MB", default=4096)
MODEL_VALIDATION_CPU_SECONDS = env.int("DJANGO_MODEL_VALIDATION_CPU_SECONDS", default=900)
MODEL_VALIDATION_TIMEOUT_SECONDS = env.int("DJANGO_MODEL_VALIDATION_TIMEOUT_SECONDS", default=600)
LABEL_FILE_MAX_BYTES = 2 * 2**20
LABEL_SET_MAX_CLASSES = env.int("DJANGO_LABEL_SET_MAX_CLASSES", default=5000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 40 * 2**20  # JSON with base64 images
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 2**20

# Operations
# ------------------------------------------------------------------------------
# /metrics answers to "Authorization: Bearer <token>" (or staff); unset: no endpoint.
METRICS_TOKEN = env("DJANGO_METRICS_TOKEN", default="")

# Classification uploads (checked while the request body is read)
# ------------------------------------------------------------------------------
UPLOAD_MAX_FILE_BYTES = env.int("DJANGO_UPLOAD_MAX_FILE_MB", default=20) * 2**20
UPLOAD_MAX_REQUEST_BYTES = env.int("DJANGO_UPLOAD_MAX_REQUEST_MB", default=200) * 2**20
# A zip of many images (batches, examples) may be as large as a whole request.
UPLOAD_MAX_ARCHIVE_BYTES = env.int("DJANGO_UPLOAD_MAX_ARCHIVE_MB", default=200) * 2**20
CLASSIFY_MAX_FILES = env.int("DJANGO_CLASSIFY_MAX_FILES", default=20)
# Below this top-class confidence an answer is hedged to a broader class (a
# request's min_confidence, or a classifier's own threshold, comes first).
CLASSIFY_HEDGE_CONFIDENCE = env.float("DJANGO_CLASSIFY_HEDGE_CONFIDENCE", default=0.5)
BATCH_MAX_FILES = env.int("DJANGO_BATCH_MAX_FILES", default=1000)
# A batch of loose files is one multipart request: let it hold that many.
DATA_UPLOAD_MAX_NUMBER_FILES = BATCH_MAX_FILES
BATCH_MAX_UNCOMPRESSED_BYTES = env.int("DJANGO_BATCH_MAX_UNCOMPRESSED_MB", default=1000) * 2**20
BATCH_MAX_COMPRESSION_RATIO = 50
# A user's uploads waiting for a worker (batch and example archives) on disk.
UPLOAD_MAX_PENDING_BYTES = env.int("DJANGO_UPLOAD_MAX_PENDING_MB", default=1000) * 2**20
BATCH_LEASE_SECONDS = env.int("DJANGO_BATCH_LEASE_SECONDS", default=60)
BATCH_MAX_ATTEMPTS = env.int("DJANGO_BATCH_MAX_ATTEMPTS", default=3)
BATCH_ITEM_MAX_ATTEMPTS = 2
# A job whose worker vanished runs again after 2, 4, 8... seconds (at most the max).
RETRY_BASE_DELAY = env.float("DJANGO_RETRY_BASE_DELAY", default=2.0)
RETRY_MAX_DELAY = env.float("DJANGO_RETRY_MAX_DELAY", default=300.0)
# A big batch is shared by up to this many workers at once (one task each).
BATCH_RUNNERS_PER_JOB = env.int("DJANGO_BATCH_RUNNERS_PER_JOB", default=4)
STORED_IMAGE_MAX_SIDE = 2048
THUMBNAIL_SIDE = 320

# Addresses fetched for users: image URLs and webhook deliveries (core/fetch.py)
# ------------------------------------------------------------------------------
FETCH_MAX_BYTES = env.int("DJANGO_FETCH_MAX_MB", default=20) * 2**20
# One limit for the whole exchange: connecting, redirects and the body.
FETCH_TIMEOUT_SECONDS = env.float("DJANGO_FETCH_TIMEOUT_SECONDS", default=10.0)
FETCH_MAX_REDIRECTS = env.int("DJANGO_FETCH_MAX_REDIRECTS", default=3)
CLASSIFY_MAX_URLS = env.int("DJANGO_CLASSIFY_MAX_URLS", default=5)
# Development and tests only: plain http, and private networks that may be
# reached anyway (a local test server: 127.0.0.1/32). Production refuses both.
FETCH_ALLOW_HTTP = env.bool("DJANGO_FETCH_ALLOW_HTTP", default=False)
FETCH_ALLOWED_NETWORKS = env.list("DJANGO_FETCH_ALLOWED_NETWORKS", default=[])
# Webhooks: endpoints per user; deliveries retried after 30 s, 1, 2, 4... minutes.
WEBHOOK_ENDPOINTS_PER_USER = env.int("DJANGO_WEBHOOK_ENDPOINTS_PER_USER", default=10)
WEBHOOK_TIMEOUT_SECONDS = env.float("DJANGO_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("DJANGO_WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.float("DJANGO_WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("DJANGO_WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
WEBHOOK_LEASE_SECONDS = 60

# Custom classifiers (training app)
# ------------------------------------------------------------------------------
TRAINING_MAX_CLASSIFIERS_PER_USER = env.int("DJANGO_TRAINING_MAX_CLASSIFIERS", default=20)
TRAINING_MIN_CLASSES = 2
TRAINING_MAX_CLASSES = env.int("DJANGO_TRAINING_MAX_CLASSES", default=50)
TRAINING_MAX_EXAMPLES_PER_CLASS = env.int("DJANGO_TRAINING_MAX_EXAMPLES_PER_CLASS", default=200)
TRAINING_MIN_EXAMPLES_PER_CLASS = 2  # one to learn from, one to check on
TRAINING_RECOMMENDED_EXAMPLES = (10, 50)  # fewer than 5 gets a warning
TRAINING_MAX_CONCURRENT_PER_USER = env.int("DJANGO_TRAINING_MAX_CONCURRENT", default=1)
TRAINING_LEASE_SECONDS = env.int("DJANGO_TRAINING_LEASE_SECONDS", default=120)
TRAINING_MAX_ATTEMPTS = env.int("DJANGO_TRAINING_MAX_ATTEMPTS", default=2)
TRAINING_MAX_EPOCHS = env.int("DJANGO_TRAINING_MAX_EPOCHS", default=150)
EXAMPLE_MAX_SIDE = 512  # examples are stored re-encoded at most this large
# Photos added to a classifier in one request; a zip of more goes to a worker.
EXAMPLES_MAX_FILES_PER_REQUEST = env.int("DJANGO_EXAMPLES_MAX_FILES_PER_REQUEST", default=50)
# Model validation jobs (models worker): lease renewed while the sandbox runs.
MODEL_VALIDATION_LEASE_SECONDS = env.int("DJANGO_MODEL_VALIDATION_LEASE_SECONDS", default=60)
MODEL_VALIDATION_MAX_ATTEMPTS = env.int("DJANGO_MODEL_VALIDATION_MAX_ATTEMPTS", default=2)
# Replays before activation: how many recent kept classifications are run again.
REPLAY_DEFAULT_ANSWERS = env.int("DJANGO_REPLAY_DEFAULT_ANSWERS", default=500)
REPLAY_MAX_ANSWERS = env.int("DJANGO_REPLAY_MAX_ANSWERS", default=5000)
