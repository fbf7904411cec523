"""config.settings.production read in a fresh process with an operator's
environment: the client address behind our proxies (allauth's failed-login
limit and DRF's throttles, fed real forwarded headers), the cache backend a
Redis URL selects, the database password kept out of the URL, HSTS opt-ins."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "production-settings-test-" + "x" * 40,
    "DJANGO_ALLOWED_HOSTS": "picsort.example.org",
    "DATABASE_URL": "postgres://picsort@db.internal:5432/picsort",
    "DJANGO_EMAIL_URL": "consolemail://",
}

SCRIPT = r"""
import json, sys
import django
django.setup()
from django.conf import settings
from django.test import RequestFactory
from allauth.core.internal.httpkit import get_client_ip
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle

def seen(xff):
    headers = {"HTTP_X_FORWARDED_FOR": xff} if xff else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **headers)
    return [get_client_ip(request), AnonRateThrottle().get_ident(Request(request))]

database = settings.DATABASES["default"]
print(json.dumps({
    "no_header": seen(None),
    "proxy_only": seen("203.0.113.7"),
    "spoofed": seen("6.6.6.6, 203.0.113.7"),
    "cache": settings.CACHES["default"],
    "database": [database["HOST"], database["USER"], database["PASSWORD"]],
    "hosts": settings.ALLOWED_HOSTS,
    "hsts": [settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD],
    "silenced": settings.SILENCED_SYSTEM_CHECKS,
}))
"""


def _settings(tmp_path: Path | None = None, **env: str) -> dict:
    environment = {**os.environ, **BASE_ENV, **env}
    for name in ("DJANGO_CACHE_URL", "DJANGO_TRUSTED_PROXY_COUNT", "DJANGO_DATABASE_PASSWORD"):
        if name not in env:
            environment.pop(name, None)
    if tmp_path is not None:  # a stand-in django_redis on the path
        (tmp_path / "django_redis").mkdir()
        (tmp_path / "django_redis" / "__init__.py").write_text("")
        environment["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_one_proxy_limits_key_on_the_address_it_saw():
    seen = _settings(DJANGO_TRUSTED_PROXY_COUNT="1")
    # allauth and DRF agree, and a client cannot choose its own address.
    assert seen["proxy_only"] == ["203.0.113.7", "203.0.113.7"]
    assert seen["spoofed"] == ["203.0.113.7", "203.0.113.7"]
    assert seen["no_header"] == ["10.0.0.2", "10.0.0.2"]


def test_without_a_proxy_limits_key_on_the_connection():
    seen = _settings(DJANGO_TRUSTED_PROXY_COUNT="0")
    assert seen["spoofed"] == ["10.0.0.2", "10.0.0.2"]
    assert _settings()["spoofed"] == ["10.0.0.2", "10.0.0.2"]  # 0 is the default


def test_a_redis_url_selects_djangos_own_backend(tmp_path):
    # Even with django_redis importable (django-environ would pick it).
    seen = _settings(tmp_path, DJANGO_CACHE_URL="redis://:pw@cache.internal:6379/2")
    cache = seen["cache"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://:pw@cache.internal:6379/2"
    assert cache["OPTIONS"]["socket_timeout"] > 0
    tls = _settings(DJANGO_CACHE_URL="rediss://cache.internal:6380/0")["cache"]
    assert tls["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert tls["LOCATION"] == "rediss://cache.internal:6380/0"


def test_the_database_cache_stays_the_fallback():
    cache = _settings()["cache"]
    assert cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert cache["LOCATION"] == "django_cache"


def test_the_database_password_is_taken_verbatim():
    password = "p@ss:w/rd#1%?"
    seen = _settings(DJANGO_DATABASE_PASSWORD=password)
    assert seen["database"] == ["db.internal", "picsort", password]


def test_only_the_sites_names_and_no_hsts_commitment_by_default():
    seen = _settings()
    assert seen["hosts"] == ["picsort.example.org"]
    assert seen["hsts"] == [False, False]
    assert set(seen["silenced"]) == {"security.W005", "security.W021"}
    opted_in = _settings(
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true", DJANGO_SECURE_HSTS_PRELOAD="true"
    )
    assert opted_in["hsts"] == [True, True] and opted_in["silenced"] == []
