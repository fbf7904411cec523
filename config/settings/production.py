"""Production: every secret comes from the environment, with no default."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    FETCH_ALLOW_HTTP,
    FETCH_ALLOWED_NETWORKS,
    LOGGING,
    REST_FRAMEWORK,
    STORAGES,
    _database,
    _mailer,
    env,
)

SECRET_KEY = env("DJANGO_SECRET_KEY")
# Only the site's names: probes and scrapes by pod IP or 127.0.0.1 are answered
# before host validation (core/probes.py).
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
DATABASES = {"default": _database(env("DATABASE_URL"), conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The password may come on its own, verbatim, so it never has to be
# percent-encoded into DATABASE_URL (compose builds the URL from parts).
if database_password := env("DJANGO_DATABASE_PASSWORD", default=""):
    DATABASES["default"]["PASSWORD"] = database_password


def _cache(url: str) -> dict:
    """DJANGO_CACHE_URL -> one CACHES entry. redis:// and rediss:// always mean
    Django's own RedisCache (django-environ would pick django_redis whenever
    that package happens to be installed); short socket timeouts, so a Redis
    outage fails a request quickly instead of hanging a worker thread."""
    scheme = url.partition("://")[0]
    if scheme not in ("redis", "rediss"):
        return env.cache_url_config(url)
    config = env.cache_url_config(url, backend="django.core.cache.backends.redis.RedisCache")
    # django-environ writes ?key_prefix=... (and timeout, version) in lower case
    # for this backend, where Django only reads upper case: put them right.
    for key in ("key_prefix", "timeout", "version", "key_function"):
        if key in config:
            config[key.upper()] = config.pop(key)
    options = config.setdefault("OPTIONS", {})
    options.setdefault("socket_connect_timeout", 2)
    options.setdefault("socket_timeout", 2)
    return config


# Rate limits and throttles live in the cache, so every process must share it:
# Redis (compose and Kubernetes set it), else the database cache table.
CACHES = {"default": _cache(env("DJANGO_CACHE_URL", default="dbcache://django_cache"))}

# Client addresses behind our proxies
# ------------------------------------------------------------------------------
# How many proxies of ours stand in front of gunicorn, each appending the
# address it saw to X-Forwarded-For (compose's nginx, or the ingress
# controller: 1). Per-IP limits then key on the address the outermost of them
# saw; with 0 they key on the connection's address. allauth (failed logins)
# and DRF (anonymous throttle) read the same position.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": TRUSTED_PROXY_COUNT}

# Security
# ------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes and scrapes over plain http never reach the redirect (core/probes.py).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
# Both bind more than this site and are slow to undo (preload lists take
# months): opt in once every subdomain of the domain serves https. Until then
# Django's reminders about them (W005, W021) are silenced here on purpose.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
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

# Fetching for users (image URLs, webhooks): the test allowances never apply here.
if FETCH_ALLOW_HTTP or FETCH_ALLOWED_NETWORKS:
    raise ImproperlyConfigured(
        "DJANGO_FETCH_ALLOW_HTTP and DJANGO_FETCH_ALLOWED_NETWORKS are for development and tests."
    )
