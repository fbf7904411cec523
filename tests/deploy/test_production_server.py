"""The web role as it runs in compose and Kubernetes, with real processes:
gunicorn with config/gunicorn.py and production settings (SSL redirect on),
Redis as the cache, and compose's nginx configuration in front (Debian's
nginx; only the lines marked "(test)" are changed: ports, paths, upstream).

- probes and scrapes by pod IP reach /healthz, /readyz and /metrics without
  DisallowedHost or the https redirect; other paths still refuse that Host;
- through the proxy, rate limits key on the client's real address (a forged
  X-Forwarded-For changes nothing) and live in Redis;
- the proxy stops oversized uploads and never serves /metrics.

CI installs nginx and redis-server; without them locally, these are skipped."""

import datetime
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.models_registry.test_worker import ROOT, worker_env

NGINX = Path("/usr/sbin/nginx")
POD_HOST = "10.244.3.17:8000"
SITE = "picsort.test"
TOKEN = "scrape-token-for-tests"

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def _required(path: str | None, what: str) -> str:
    if not path:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {what}")
        pytest.skip(f"needs {what}")
    return path


def _self_signed(folder: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SITE)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def nginx_config(folder: Path, *, http: int, https: int, upstream: int) -> Path:
    """compose's nginx.conf and nginx-proxy.conf with every "(test)" line
    rewritten for this folder and these ports, and nothing else changed."""
    replacements = {
        "pid /tmp/nginx.pid;": f"pid {folder}/nginx.pid;",
        "client_body_temp_path /tmp/nginx-body;": f"client_body_temp_path {folder}/body;",
        "proxy_temp_path /tmp/nginx-proxy;": f"proxy_temp_path {folder}/proxy;",
        "resolver 127.0.0.11 valid=10s ipv6=off;": "",
        "listen 8080;": f"listen 127.0.0.1:{http};",
        "listen 8443 ssl;": f"listen 127.0.0.1:{https} ssl;",
        "ssl_certificate /etc/nginx/tls/cert.pem;": f"ssl_certificate {folder}/cert.pem;",
        "ssl_certificate_key /etc/nginx/tls/key.pem;": f"ssl_certificate_key {folder}/key.pem;",
        "include /etc/nginx/picsort-proxy.conf;": f"include {folder}/picsort-proxy.conf;",
        "set $web http://web:8000;": f"set $web http://127.0.0.1:{upstream};",
    }
    for name, target in (("nginx.conf", "nginx.conf"), ("nginx-proxy.conf", "picsort-proxy.conf")):
        lines = []
        for line in (ROOT / "deploy" / "compose" / name).read_text().splitlines():
            if "(test)" in line and not line.lstrip().startswith("#"):
                code = line.split("#")[0].strip()
                assert code in replacements, f"no test value for: {code}"
                line = replacements[code]
            lines.append(line)
        (folder / target).write_text("\n".join(lines) + "\n")
    return folder / "nginx.conf"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Redis, gunicorn and nginx, started once for the module."""
    nginx = _required(str(NGINX) if NGINX.exists() else None, "nginx (apt-get install nginx)")
    redis = _required(shutil.which("redis-server"), "redis-server")
    folder = tmp_path_factory.mktemp("stack")
    folder.chmod(0o755)  # nginx workers run as nobody when the tests run as root
    ports = {name: _free_port() for name in ("redis", "web", "http", "https")}
    with django_db_blocker.unblock():
        env = {
            **worker_env(),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "production-server-test-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": SITE,
            "DJANGO_EMAIL_URL": "consolemail://",
            "DJANGO_CACHE_URL": f"redis://127.0.0.1:{ports['redis']}/0",
            "DJANGO_TRUSTED_PROXY_COUNT": "1",
            "DJANGO_METRICS_TOKEN": TOKEN,
            "DJANGO_THROTTLE_ANON": "3/minute",
            "DJANGO_LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"127.0.0.1:{ports['web']}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_ACCESS_LOG": "",
        }
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_STATIC_ROOT"):
        env.pop(name, None)
    _self_signed(folder)
    config = nginx_config(folder, http=ports["http"], https=ports["https"], upstream=ports["web"])
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [redis, "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", ""],
            **quiet,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"],
            cwd=ROOT,
            env=env,
            **quiet,
        ),
        subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(config), "-e", "stderr", "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ),
    ]
    try:
        for process, port in zip(processes, ("redis", "web", "https"), strict=True):
            _wait_port(ports[port], process)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def _self_signed_ok() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return context


def _get(port: int, path: str, headers: dict, *, tls: bool = False, source: str = "127.0.0.1"):
    if tls:
        context = _self_signed_ok()
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=60, context=context, source_address=(source, 0)
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def test_probes_and_scrapes_by_pod_ip(stack, imagenet_model):
    web, pod = stack["web"], {"Host": POD_HOST}
    assert _get(web, "/healthz", pod)[0] == 200
    status, _, body = _get(web, "/readyz", pod)
    assert status == 200, body
    status, _, body = _get(web, "/metrics", {**pod, "Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    # Empty queues are reported as 0, so the worker autoscalers can scale down.
    assert 'picsort_task_queue_depth{queue="batches"} 0.0' in body
    assert _get(web, "/metrics", {**pod, "Authorization": "Bearer wrong"})[0] == 404


def test_other_paths_still_refuse_unknown_hosts_and_plain_http(stack):
    web = stack["web"]
    assert _get(web, "/", {"Host": POD_HOST})[0] == 400
    assert _get(web, "/metrics", {"Host": POD_HOST})[0] == 400  # no token: the full chain
    assert _get(web, "/accounts/login/", {"Host": POD_HOST})[0] == 400
    status, headers, _ = _get(web, "/", {"Host": SITE})
    assert status == 301 and headers["Location"] == f"https://{SITE}/"


def test_the_proxy_keys_rate_limits_on_the_real_client_address(stack):
    https = stack["https"]
    host = {"Host": f"{SITE}:{https}"}
    # 3 per minute for anonymous clients; each request forges a new address.
    statuses = [
        _get(https, "/api/schema/", {**host, "X-Forwarded-For": f"198.51.100.{n}"}, tls=True)[0]
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # Another client (another source address) has its own allowance.
    assert _get(https, "/api/schema/", host, tls=True, source="127.0.0.2")[0] == 200

    import redis

    keys = redis.Redis(port=stack["redis"]).keys("*throttle_anon*")
    assert len(keys) == 2, keys  # the counters live in Redis, one per real client


def test_the_proxy_limits_uploads_and_hides_metrics(stack):
    https = stack["https"]
    host = {"Host": f"{SITE}:{https}"}
    assert _get(https, "/metrics", {**host, "Authorization": f"Bearer {TOKEN}"}, tls=True)[0] == 404
    status, headers, _ = _get(stack["http"], "/accounts/login/", host)
    assert status == 308 and headers["Location"].startswith(f"https://{SITE}")

    raw = socket.create_connection(("127.0.0.1", https))
    with _self_signed_ok().wrap_socket(raw) as sock:
        sock.sendall(
            f"POST /api/v1/batches/ HTTP/1.1\r\nHost: {SITE}\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {300 * 2**20}\r\n\r\n".encode()
        )
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413"), answer
