"""compose.yaml as `docker compose up` would run it (rendered offline by
`docker-compose config` in a throw-away project folder with an operator's
.env): every setting of .env reaches the app, only the proxy publishes a port,
the roles run the right image, and the proxy's limits fit the app's."""

import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent
GUNICORN = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
NGINX = (ROOT / "deploy" / "compose" / "nginx.conf").read_text()
APP_SERVICES = ("setup", "web", "worker", "training-worker", "sweeper")
PASSWORD = "p@ss:w/rd#1%?"  # everything a URL would choke on

OPERATOR_ENV = f"""
DJANGO_SECRET_KEY=a-secret-key
POSTGRES_PASSWORD={PASSWORD}
DJANGO_EMAIL_URL=smtp+tls://mailer:pw@smtp.example.org:587
DJANGO_ALLOWED_HOSTS=picsort.example.org
DJANGO_ACCOUNT_ALLOW_SIGNUP=false
DJANGO_ADMIN_URL=back-office/
DJANGO_METRICS_TOKEN=scrape-me
DJANGO_GITHUB_CLIENT_ID=gh-id
DJANGO_SECURE_HSTS_SECONDS=300
DJANGO_S3_PREFIX=picsort/
"""


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> dict:
    if not shutil.which("docker-compose"):
        pytest.skip("needs docker-compose (Debian package docker-compose)")
    project = tmp_path_factory.mktemp("compose")
    (project / ".env").write_text(OPERATOR_ENV)
    compose = ["docker-compose", "-f", str(ROOT / "compose.yaml"), "--project-directory"]
    result = subprocess.run(
        [*compose, str(project), "config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_every_setting_in_env_reaches_the_app(services):
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["DJANGO_ACCOUNT_ALLOW_SIGNUP"] == "false", name
        assert environment["DJANGO_ADMIN_URL"] == "back-office/"
        assert environment["DJANGO_METRICS_TOKEN"] == "scrape-me"
        assert environment["DJANGO_GITHUB_CLIENT_ID"] == "gh-id"
        assert environment["DJANGO_SECURE_HSTS_SECONDS"] == "300"
        assert environment["DJANGO_S3_PREFIX"] == "picsort/"


def test_the_database_password_never_goes_into_a_url(services):
    environment = services["web"]["environment"]
    assert environment["DATABASE_URL"] == "postgres://picsort@db:5432/picsort"
    assert environment["DJANGO_DATABASE_PASSWORD"] == PASSWORD
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == PASSWORD


def test_cache_and_rate_limits_live_in_redis_behind_one_proxy(services):
    environment = services["web"]["environment"]
    assert environment["DJANGO_CACHE_URL"] == "redis://redis:6379/0"
    assert "redis" in services and services["redis"]["image"].startswith("redis:")
    assert environment["DJANGO_TRUSTED_PROXY_COUNT"] == "1"
    for name in APP_SERVICES[1:]:
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_only_the_proxy_publishes_ports_so_web_scales(services):
    published = {name for name, spec in services.items() if spec.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_roles_run_the_right_image(services):
    small, full = services["web"]["image"], services["training-worker"]["image"]
    assert small != full
    assert services["worker"]["image"] == services["sweeper"]["image"] == small
    assert services["setup"]["image"] == full
    for name, spec in services.items():
        assert not spec["image"].endswith(":latest"), name
    # The small image's HEALTHCHECK calls gunicorn: roles without it turn it off.
    for name in ("worker", "sweeper"):
        assert services[name]["healthcheck"]["test"] == ["NONE"]


def _seconds(value: str) -> int:
    return int(value.rstrip("s"))


def test_shutdown_waits_for_gunicorn_and_the_workers(services):
    assert _seconds(services["web"]["stop_grace_period"]) > GUNICORN["graceful_timeout"]
    for name in ("worker", "training-worker"):
        assert _seconds(services[name]["stop_grace_period"]) >= 60


def _nginx_megabytes(text: str) -> list[int]:
    return [int(size) for size in re.findall(r"client_max_body_size (\d+)m;", text)]


def test_the_proxy_limits_fit_the_upload_limits():
    sizes = _nginx_megabytes(NGINX)
    request_limit = (settings.UPLOAD_MAX_REQUEST_BYTES + 64 * 1024) / 2**20
    assert min(sizes) >= request_limit
    assert max(sizes) >= settings.MODEL_MAX_UPLOAD_BYTES / 2**20
    assert "proxy_request_buffering on;" in NGINX
    read_timeouts = [int(s) for s in re.findall(r"proxy_read_timeout (\d+)s;", NGINX)]
    assert min(read_timeouts) >= 120


def test_compose_variables_are_documented(services):
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    operator = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", OPERATOR_ENV, re.M))
    for name in APP_SERVICES:
        keys = set(services[name]["environment"]) - operator - {"POSTGRES_PASSWORD"}
        assert keys <= documented, keys - documented
