"""Settings for the test suite. DATABASE_URL picks PostgreSQL in CI."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, SECURE_CSP, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-secret-key-0123456789abcdef")
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# A fresh folder per test run (tests/conftest.py removes it); worker processes
# started by tests are handed the same path through DJANGO_MEDIA_ROOT.
MEDIA_ROOT = env.path(
    "DJANGO_MEDIA_ROOT",
    default=str(Path(tempfile.gettempdir()) / f"picsort-test-media-{os.getpid()}"),
)
SECURE_CSP = {**SECURE_CSP, "form-action": [*SECURE_CSP["form-action"], "http:"]}
SOCIALACCOUNT_PROVIDERS = {}
# Tasks run inline unless a test (or a worker it starts) asks for the real queue.
TASKS = {
    "default": {
        "BACKEND": env(
            "DJANGO_TEST_TASKS_BACKEND", default="django.tasks.backends.immediate.ImmediateBackend"
        ),
        "QUEUES": ["default", "batches", "training", "models"],
    }
}
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: worker processes started by tests must see it.
    DATABASES["default"]["TEST"]["NAME"] = str(BASE_DIR / ".test-db.sqlite3")
# Static files straight from the source folders; no collectstatic in tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALIAS_CACHE_SECONDS = 0  # tests move aliases and expect the next request to see it
# Building int8 variants takes a models worker half a minute per model: only the
# tests that check them turn it on (tests/models_registry/test_int8.py).
MODEL_INT8_VARIANTS = env.bool("DJANGO_MODEL_INT8_VARIANTS", default=False)
# A validation run in the test's own process happens inside the test's open
# transaction, where the lease thread's separate connection cannot see the job
# row: a renewal there would read as a lost lease on a slow machine. Workers
# started by tests get their lease through DJANGO_MODEL_VALIDATION_LEASE_SECONDS;
# the recovery tests expire leases by hand.
MODEL_VALIDATION_LEASE_SECONDS = env.int("DJANGO_MODEL_VALIDATION_LEASE_SECONDS", default=900)
