"""Settings for a developer's machine: SQLite, console email, debug pages."""

from .base import *  # noqa: F403
from .base import SECURE_CSP, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="local-only-secret-key-do-not-use-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# A local OpenID Connect provider usually speaks plain http.
SECURE_CSP = {**SECURE_CSP, "form-action": [*SECURE_CSP["form-action"], "http:"]}
