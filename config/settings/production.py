"""Production: every secret comes from the environment, with no default."""

from .base import *  # noqa: F403
from .base import LOGGING, STORAGES, _database, _mailer, env

SECRET_KEY = env("DJANGO_SECRET_KEY")
# Local names too, so health checks inside the container or pod reach /healthz.
ALLOWED_HOSTS = [*env.list("DJANGO_ALLOWED_HOSTS"), "localhost", "127.0.0.1"]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
DATABASES = {"default": _database(env("DATABASE_URL"), conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="dbcache://django_cache")}

# Security
# ------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain http inside the network
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# Static files: compressed, hashed names, served by whitenoise.
# ------------------------------------------------------------------------------
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Email: no console fallback in production.
# ------------------------------------------------------------------------------
MAILERS = {"default": _mailer(env("DJANGO_EMAIL_URL"))}
ADMINS = env.list("DJANGO_ADMINS", default=[])

# Logs: one JSON object per line on stderr (DJANGO_LOG_FORMAT=plain for humans).
# ------------------------------------------------------------------------------
if env("DJANGO_LOG_FORMAT", default="json") == "json":
    LOGGING = {
        **LOGGING,
        "formatters": {**LOGGING["formatters"], "json": {"()": "core.logging.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    }
