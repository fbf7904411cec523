"""Settings for the test suite. DATABASE_URL picks PostgreSQL in CI."""

from .base import *  # noqa: F403
from .base import BASE_DIR, SECURE_CSP, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-secret-key-0123456789abcdef")
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / ".test-media")
SECURE_CSP = {**SECURE_CSP, "form-action": [*SECURE_CSP["form-action"], "http:"]}
SOCIALACCOUNT_PROVIDERS = {}
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": [],
    }
}
# Static files straight from the source folders; no collectstatic in tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
