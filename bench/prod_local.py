"""`make prod-local` as a throw-away site for benches and tests: started on a
scratch PostgreSQL database, port and media folder, with a user, a token and a
two-class classifier; its processes by role and their peak memory (from /proc);
a small HTTP client. Used by bench/abuse.py and tests/deploy/test_prod_local.py.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# HTTP
# ------------------------------------------------------------------------------


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    for field, name, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


class Client:
    def __init__(self, port: int, token: str = "") -> None:
        self.port, self.token = port, token
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, *, body=b"", headers=None, timeout=120):
        import http.client

        all_headers = dict(headers or {})
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.getheader("Content-Type", ""), data
        except (OSError, http.client.HTTPException) as error:
            return 0, type(error).__name__, b""
        finally:
            connection.close()

    def post_files(self, path: str, fields: dict, files: list, *, extra_headers=None):
        body, boundary = multipart(fields, files)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.send("POST", path, body=body, headers={**headers, **(extra_headers or {})})


# Processes and their memory
# ------------------------------------------------------------------------------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            children.setdefault(_ppid(int(entry.name)), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            found.append(child)
            todo.append(child)
    return found


def roles(root: int) -> dict[int, str]:
    """web-N for gunicorn's workers (not its arbiter), worker-N for db_worker."""
    named: dict[int, str] = {}
    pids = descendants(root)
    python = [p for p in pids if "python" in _cmdline(p).split(" ", 1)[0]]
    gunicorns = [p for p in python if "gunicorn" in _cmdline(p)]
    webs = [p for p in gunicorns if _ppid(p) in gunicorns]  # not the arbiter
    workers = [p for p in python if "db_worker" in _cmdline(p)]
    for number, pid in enumerate(sorted(webs), start=1):
        named[pid] = f"web-{number}"
    for number, pid in enumerate(sorted(workers), start=1):
        queues = re.search(r"--queue-name (\S+)", _cmdline(pid))
        named[pid] = f"worker-{number} ({queues.group(1) if queues else '*'})"
    return named


def reset_peaks(pids) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


def folder_bytes(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(folder, name))
    return total


class DiskWatch:
    """The largest size the media folder reached while a case ran."""

    def __init__(self, path: Path) -> None:
        self.path, self.peak, self.stop = path, 0, threading.Event()
        self.start_bytes = folder_bytes(path)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, folder_bytes(self.path))

    def finish(self) -> int:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, folder_bytes(self.path))
        return max(0, self.peak - self.start_bytes)


# The site
# ------------------------------------------------------------------------------

SEED = """
from accounts.models import User
from accounts.services import api_token_create
from training.services import classifier_create
u = User.objects.create_user(email='abuse@example.com', password='abuse-password-1')
from allauth.account.models import EmailAddress
EmailAddress.objects.create(user=u, email=u.email, verified=True, primary=True)
c = classifier_create(user=u, name='Colours', class_names=['red', 'blue'])
print(c.pk)
print(api_token_create(user=u, name='abuse')[1])
"""


def start_site(workdir: Path, port: int, extra_env: dict) -> tuple[subprocess.Popen, dict, Path]:
    import psycopg

    name = f"picsort_abuse_{secrets.token_hex(4)}"
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "PORT": str(port),
        "DJANGO_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    log = open(workdir / "prod-local.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        ["bash", "scripts/prod-local"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    env["_ABUSE_DB"] = name
    return process, env, workdir / "prod-local.log"


def wait_ready(port: int, process: subprocess.Popen, log: Path, seconds: float = 300) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"prod-local stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    sys.exit(f"prod-local did not become ready:\n{log.read_text()[-3000:]}")


def seed(env: dict) -> tuple[int, str]:
    settings_env = dict(env)
    prod_env = ROOT / ".prod-local.env"
    for line in prod_env.read_text().splitlines():
        key, _, value = line.partition("=")
        settings_env.setdefault(key, value)
    settings_env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_EMAIL_URL="consolemail://",
    )
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=settings_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lines = out.splitlines()
    return int(lines[-2]), lines[-1]


def sign_in(client: Client) -> bool:
    status, _type, page = client.send("GET", "/accounts/login/")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        return False
    body = (
        f"csrfmiddlewaretoken={match.group(1).decode()}&login=abuse%40example.com"
        "&password=abuse-password-1"
    ).encode()
    status, _type, _page = client.send(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{client.port}/accounts/login/",
        },
    )
    return status in (302, 303)


def csrf_for(client: Client, path: str) -> str:
    _status, _type, page = client.send("GET", path)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return match.group(1).decode() if match else ""


@contextlib.contextmanager
def prod_local(extra_env: dict | None = None, *, keep: bool = False):
    """Starts the site, seeds it and yields a dict: ``process``, ``port``,
    ``client`` (with the token), ``classifier`` (its id), ``media``, ``run``
    (supervisord's folder), ``log``, ``env``. Stops it and drops the database
    afterwards; ``keep`` leaves the folder for a look at the log."""
    workdir = Path(tempfile.mkdtemp(prefix="picsort-prod-local-"))
    (workdir / "run").mkdir()
    port = free_port()
    env_extra = {"PICSORT_RUN_DIR": str(workdir / "run"), **(extra_env or {})}
    process, env, log = start_site(workdir, port, env_extra)
    try:
        wait_ready(port, process, log)
        classifier_id, token = seed(env)
        yield {
            "process": process,
            "port": port,
            "client": Client(port, token),
            "classifier": classifier_id,
            "media": workdir / "media",
            "run": workdir / "run",
            "log": log,
            "env": env,
        }
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        import psycopg

        with psycopg.connect(
            "postgres://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{env["_ABUSE_DB"]}" WITH (FORCE)')
        if keep:
            print(f"kept {workdir} (prod-local.log: what the processes said)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def wait_for_job(client: Client, url: str, seconds: float = 900) -> dict:
    deadline = time.monotonic() + seconds
    state: dict = {}
    while time.monotonic() < deadline:
        status, _type, body = client.send("GET", url)
        state = json.loads(body) if status == 200 else {}
        if state.get("status") in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(1)
    return state
