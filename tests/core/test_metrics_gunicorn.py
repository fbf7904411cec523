"""/metrics under a real gunicorn with 2 workers (config/gunicorn.py): request
counts are the sum over every worker, whichever worker answers the scrape,
also after a worker dies; and every start begins from zero.

To know that both workers answered, a scrape is held open (headers sent, not
the final blank line): the worker that accepted it blocks on it, so the next
request goes to the other one. The access log names the pid behind each."""

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.models_registry.test_worker import ROOT, wait_until, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-me"
HEALTHZ_COUNT = re.compile(
    r'^picsort_http_request_duration_seconds_count\{[^}]*view="core:healthz"[^}]*\} (\S+)$',
    re.MULTILINE,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, logs: Path, env_extra: dict | None = None):
        self.port = _free_port()
        self.access = logs / "access.log"
        self.errors = logs / "error.log"
        env = {**worker_env(), "DJANGO_METRICS_TOKEN": TOKEN}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(env_extra or {})
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "config/gunicorn.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "1",
                "--worker-class",
                "sync",
                "--access-logfile",
                str(self.access),
                "--access-logformat",
                "%(p)s %(r)s %(s)s",
                "--error-logfile",
                str(self.errors),
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        assert wait_until(lambda: len(self.booted()) >= 2, 60), self.log()
        assert wait_until(lambda: self.get("/metrics?boot")[0] == 200, 60), self.log()

    def log(self) -> str:
        return self.errors.read_text() if self.errors.exists() else ""

    def booted(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.log())]

    def answered_by(self, request_line: str) -> int:
        """The pid of the worker that logged ``request_line`` (e.g. "GET /x HTTP/1.0")."""
        for line in self.access.read_text().splitlines():
            pid, _, rest = line.partition(" ")
            if rest.startswith(request_line + " "):
                return int(pid.strip("<>"))
        raise AssertionError(f"{request_line!r} is not in the access log")

    def open(self, path: str) -> socket.socket:
        """Sends a request's headers but not the blank line that ends them."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.sendall(
            f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n".encode()
        )
        return sock

    @staticmethod
    def finish(sock: socket.socket) -> tuple[int, str]:
        sock.sendall(b"\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), body.decode()

    def get(self, path: str) -> tuple[int, str]:
        try:
            return self.finish(self.open(path))
        except OSError:
            return 0, ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)


def _healthz_count(body: str) -> float:
    return sum(float(value) for value in HEALTHZ_COUNT.findall(body))


def _send_healthz(server: Gunicorn, n: int) -> None:
    """n requests, at least one to each worker: one is held while the rest go."""
    held = server.open("/healthz?held")
    for _ in range(n - 1):
        assert server.get("/healthz")[0] == 200
    assert server.finish(held)[0] == 200


def _scrape_both_workers(server: Gunicorn, tag: str) -> dict[int, float]:
    """One scrape answered by each worker: {pid: request count of /healthz}."""
    held = server.open(f"/metrics?{tag}-held")
    status, body = server.get(f"/metrics?{tag}-other")
    assert status == 200
    held_status, held_body = server.finish(held)
    assert held_status == 200
    counts = {
        server.answered_by(f"GET /metrics?{tag}-other HTTP/1.0"): _healthz_count(body),
        server.answered_by(f"GET /metrics?{tag}-held HTTP/1.0"): _healthz_count(held_body),
    }
    assert len(counts) == 2, "both scrapes were answered by the same worker"
    return counts


def test_request_counts_add_up_across_workers(tmp_path):
    server = Gunicorn(tmp_path)
    try:
        _send_healthz(server, 25)
        first = server.answered_by("GET /healthz?held HTTP/1.0")
        second = server.answered_by("GET /healthz HTTP/1.0")
        assert first != second  # the requests really were shared
        for round_ in range(3):
            counts = _scrape_both_workers(server, f"round{round_}")
            assert list(counts.values()) == [25.0, 25.0], counts

        # A worker dies: gunicorn starts another; the dead one's requests still count.
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: len(server.booted()) >= 3, 60), server.log()
        _send_healthz(server, 5)
        for round_ in range(2):
            counts = _scrape_both_workers(server, f"after{round_}")
            assert list(counts.values()) == [30.0, 30.0], counts
        directory = re.search(r"Prometheus multiprocess directory: (\S+)", server.log()).group(1)
        assert Path(directory).is_dir()
    finally:
        server.stop()
    assert not Path(directory).exists()  # the temporary directory leaves with gunicorn


def test_each_start_begins_from_zero_in_the_operators_directory(tmp_path):
    directory = tmp_path / "prometheus"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    server = Gunicorn(tmp_path / "one", env)
    try:
        _send_healthz(server, 4)
        assert set(_scrape_both_workers(server, "one").values()) == {4.0}
    finally:
        server.stop()
    assert any(directory.glob("*.db"))  # the operator's directory is kept

    server = Gunicorn(tmp_path / "two", env)
    try:
        _send_healthz(server, 2)
        assert set(_scrape_both_workers(server, "two").values()) == {2.0}
    finally:
        server.stop()
