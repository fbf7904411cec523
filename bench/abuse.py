"""Hostile requests against the production topology: what each costs and answers.

    .venv/bin/python -P bench/abuse.py [--only A1,B,...]

Starts ``make prod-local`` (scripts/prod-local) on a scratch PostgreSQL
database and port, makes a user with a token and a two-class classifier, then
replays the abuse cases below one at a time. Before each case the peak
resident memory of every web (gunicorn) and worker process is reset
(``/proc/PID/clear_refs``); after it, each process's peak (VmHWM) is printed
with the status codes and the bytes the case wrote under the media folder.

A1  20 copies of a 6324x6324 greyscale PNG of zeros (39 KB each) in one
    POST /api/v1/classifications/ (store=false)
A2  the same with 10 copies
A3  one 16-bit greyscale PNG of 6324x6324 (77 KB)
B   a zip with 170 copies of a 40-megapixel PNG in each of red/ and blue/ to
    POST /api/v1/classifiers/<id>/examples/
D   a 20.5 MB zip of 46 members of 20 MiB each (compression ratio 47) to
    POST /api/v1/batches/; the workers then process it
C   POST /api/v1/batches/ until it answers 429, then 20 more batches through
    the page POST /classify/batches/ with a session of the same user

Run it as root (clear_refs needs to write to other processes' /proc files).
"""

import argparse
import contextlib
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Hostile files
# ------------------------------------------------------------------------------


def png_zeros(side: int, *, mode: str = "L") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, (side, side), 0).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def zip_of(members: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def bomb_zip(members: int, member_bytes: int, ratio: float) -> bytes:
    """Members that compress ``ratio`` times: random bytes diluted with zeros."""
    chunk = 1 << 16
    random_share = int(chunk / ratio * 0.73)  # deflate's overhead on random bytes
    block = b"".join(
        os.urandom(random_share) + bytes(chunk - random_share) for _ in range(member_bytes // chunk)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for number in range(members):
            archive.writestr(f"photo-{number}.jpg", block)
    return buffer.getvalue()


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


# The cases
# ------------------------------------------------------------------------------


def describe(status: int, content_type: str, body: bytes) -> str:
    if status == 0:
        return f"no answer ({content_type})"
    kind = "json" if "json" in content_type else ("html" if "html" in content_type else "-")
    code = ""
    if kind == "json":
        try:
            code = (json.loads(body).get("error") or {}).get("code", "")
        except (ValueError, AttributeError):
            code = "?"
    return f"{status} {kind}{' ' + code if code else ''}"


def case_classify(client: Client, images: list[tuple[str, bytes]]) -> list[str]:
    answer = client.post_files(
        "/api/v1/classifications/",
        {"store": "false"},
        [("file", name, data) for name, data in images],
    )
    return [describe(*answer)]


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


def case_examples(client: Client, classifier_id: int, archive: bytes) -> list[str]:
    answer = client.post_files(
        f"/api/v1/classifiers/{classifier_id}/examples/", {}, [("archive", "colours.zip", archive)]
    )
    out = [describe(*answer)]
    if answer[0] == 202:
        started = time.monotonic()
        state = wait_for_job(client, json.loads(answer[2])["url"])
        out.append(
            f"import {state.get('status')} after {time.monotonic() - started:.0f} s in a worker: "
            f"{state.get('added')} added, {state.get('duplicates')} already there, "
            f"{state.get('failed')} refused"
        )
    return out


def case_pages_skip_limits(client: Client, page_client: Client, small_zip: bytes) -> list[str]:
    api_statuses = []
    for _attempt in range(200):
        status, _content_type, _body = client.post_files(
            "/api/v1/batches/", {"store": "false"}, [("archive", "few.zip", small_zip)]
        )
        api_statuses.append(status)
        if status == 429:
            break
    accepted = 0
    if not sign_in(page_client):
        return [f"API: {len(api_statuses)} posts, last {api_statuses[-1]}", "page: sign-in failed"]
    token = csrf_for(page_client, "/classify/batches/")
    page_statuses = []
    for _attempt in range(20):
        status, _type, _body = page_client.post_files(
            "/classify/batches/",
            {"csrfmiddlewaretoken": token, "model": "default", "store": "on"},
            [("archive", "few.zip", small_zip)],
            extra_headers={"Referer": f"http://127.0.0.1:{page_client.port}/classify/batches/"},
        )
        page_statuses.append(status)
        accepted += status in (302, 303)
    counts: dict[int, int] = {}
    for status in page_statuses:
        counts[status] = counts.get(status, 0) + 1
    return [
        f"API: 429 after {len(api_statuses) - 1} accepted",
        "pages after that: " + ", ".join(f"{n}x {s}" for s, n in sorted(counts.items())),
        f"{accepted} page batches accepted",
    ]


def case_disk(client: Client, archive: bytes) -> list[str]:
    answer = client.post_files(
        "/api/v1/batches/", {"store": "false"}, [("archive", "d.zip", archive)]
    )
    out = [describe(*answer)]
    if answer[0] == 202:
        job = json.loads(answer[2])
        state = wait_for_job(client, f"/api/v1/batches/{job['id']}/")
        out.append(
            f"job {state.get('status')}: {state.get('done')} classified, "
            f"{state.get('failed')} failed"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="A1,A2,A3,B,D,C")
    args = parser.parse_args()
    wanted = set(args.only.split(","))

    print("building the hostile files...", flush=True)
    grey = png_zeros(6324)
    grey16 = png_zeros(6324, mode="I;16")
    colour_png = png_zeros(6324)  # 40 megapixels; the same bytes in both folders
    examples_zip = zip_of(
        [(f"{folder}/{n}.png", colour_png) for folder in ("red", "blue") for n in range(170)],
        method=zipfile.ZIP_STORED,
    )
    disk_zip = bomb_zip(46, 20 * 2**20, ratio=47)
    small = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 30, 30)).save(small, "JPEG")
    small_zip = zip_of([("a.jpg", small.getvalue())])
    print(
        f"  grey PNG {len(grey) / 1e3:.0f} KB, 16-bit PNG {len(grey16) / 1e3:.0f} KB, "
        f"examples zip {len(examples_zip) / 1e6:.1f} MB, disk zip {len(disk_zip) / 1e6:.1f} MB",
        flush=True,
    )

    workdir = Path(tempfile.mkdtemp(prefix="picsort-abuse-"))
    port = free_port()
    process, env, log = start_site(
        workdir,
        port,
        {"DJANGO_THROTTLE_BATCH": "10/hour", "DJANGO_THROTTLE_CLASSIFY": "10000/minute"},
    )
    try:
        wait_ready(port, process, log)
        classifier_id, token = seed(env)
        client = Client(port, token)
        cases = {
            "A1": (
                "20 x 40 MP greyscale PNG, classify",
                lambda: case_classify(client, [(f"zeros-{n}.png", grey) for n in range(20)]),
            ),
            "A2": (
                "10 x 40 MP greyscale PNG, classify",
                lambda: case_classify(client, [(f"zeros-{n}.png", grey) for n in range(10)]),
            ),
            "A3": (
                "1 x 40 MP 16-bit PNG, classify",
                lambda: case_classify(client, [("zeros16.png", grey16)]),
            ),
            "B": (
                "340 x 40 MP PNG in a zip, examples",
                lambda: case_examples(client, classifier_id, examples_zip),
            ),
            "D": ("46 x 20 MiB zip members, batch", lambda: case_disk(client, disk_zip)),
            "C": (
                "batches: API until 429, then pages",
                lambda: case_pages_skip_limits(client, Client(port), small_zip),
            ),
        }
        rows = []
        for key, (title, run) in cases.items():
            if key not in wanted:
                continue
            named = roles(process.pid)
            reset_peaks(named)
            before = {pid: peak_mb(pid) for pid in named}
            disk = DiskWatch(workdir / "media")
            started = time.monotonic()
            outcome = run()
            took = time.monotonic() - started
            written = disk.finish()
            time.sleep(0.5)
            after = roles(process.pid)
            peaks = {name: peak_mb(pid) for pid, name in after.items() if pid in named}
            restarted = sorted(
                set(named.values()) - set(peaks)
                | {name for pid, name in after.items() if pid not in named}
            )
            rows.append((key, title, outcome, took, peaks, before, written, restarted))
            print(f"\n{key}  {title}  ({took:.1f} s)", flush=True)
            for line in outcome:
                print(f"    answer: {line}")
            for name, peak in sorted(peaks.items()):
                print(f"    {name:<32} peak {peak or 0:8.0f} MB")
            if restarted:
                print(f"    processes gone or restarted: {', '.join(restarted)}")
            print(f"    media written (peak): {written / 2**20:.1f} MB", flush=True)
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
        import shutil

        if os.environ.get("ABUSE_KEEP"):
            print(f"kept {workdir} (prod-local.log: what the processes said)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
