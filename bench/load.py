"""Mixed traffic against the production topology, with 1 then 2 web processes.

    .venv/bin/python -P bench/load.py [--seconds 60] [--clients 6] [--web 1,2]

On a fresh PostgreSQL database (production settings, one ONNX Runtime thread
per process) it starts gunicorn with ``--web`` processes behind one port, two
batch workers and the sweeper, then drives it for ``--seconds`` with
``--clients`` concurrent clients, each request drawn at random:
70 % classify one 640x480 photo (kept in the history), 20 % read the history,
10 % submit a batch of 5 photos (202). Printed per run and per kind: requests,
throughput, latency percentiles, 5xx and other errors; then whether every
batch finished, and the throughput ratio of 2 web processes to 1. The load
generator runs on the same 2 cores, so absolute numbers are conservative.
"""

import argparse
import contextlib
import importlib.util
import io
import os
import random
import secrets
import shutil
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

_spec = importlib.util.spec_from_file_location("bench_http", ROOT / "bench" / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.server_errors: dict[str, int] = {}
        self.other_errors: dict[str, int] = {}
        self.batches: list[str] = []

    def add(self, kind: str, took: float, status: int) -> None:
        with self.lock:
            if 200 <= status < 300:
                self.latencies.setdefault(kind, []).append(took)
            elif status >= 500:
                self.server_errors[kind] = self.server_errors.get(kind, 0) + 1
            else:
                self.other_errors[kind] = self.other_errors.get(kind, 0) + 1


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


def request(
    port: int, method: str, path: str, token: str, body=b"", boundary=""
) -> tuple[int, bytes]:
    import http.client

    headers = {"Authorization": f"Bearer {token}"}
    if boundary:
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 599, b""
    finally:
        connection.close()


def drive(
    port: int, token: str, *, clients: int, seconds: float, jpeg: bytes
) -> tuple[Recorder, float]:
    import json

    classify_body, classify_boundary = multipart({}, [("file", "photo.jpg", jpeg)])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for number in range(5):
            zipped.writestr(f"{number}.jpg", jpeg)
    batch_body, batch_boundary = multipart(
        {"store": "false"}, [("archive", "photos.zip", archive.getvalue())]
    )
    recorder = Recorder()
    started = time.perf_counter()
    deadline = started + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.perf_counter() < deadline:
            pick = rng.random()
            begin = time.perf_counter()
            if pick < 0.7:
                kind = "classify"
                status, _ = request(
                    port,
                    "POST",
                    "/api/v1/classifications/",
                    token,
                    classify_body,
                    classify_boundary,
                )
            elif pick < 0.9:
                kind = "history"
                status, _ = request(port, "GET", "/api/v1/classifications/?page=1", token)
            else:
                kind = "batch"
                status, body = request(
                    port, "POST", "/api/v1/batches/", token, batch_body, batch_boundary
                )
                if status == 202:
                    with recorder.lock:
                        recorder.batches.append(json.loads(body)["url"])
            recorder.add(kind, time.perf_counter() - begin, status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder, time.perf_counter() - started


def run(web: int, args, jpeg: bytes) -> float:
    workdir = Path(tempfile.mkdtemp(prefix=f"picsort-load-{web}-"))
    url, cleanup = bench_http.database_url("postgres", workdir)
    port = bench_http.free_port()
    env = bench_http.production_env(workdir, url)
    processes = []
    try:
        token = bench_http.prepare_site(env)
        start = {
            "start_new_session": True,
            "cwd": ROOT,
            "env": env,
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
        }
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        processes.append(bench_http.start_gunicorn(env, port, web, **quiet))
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [PY, "manage.py", "db_worker", "--queue-name", "batches,default"], **start
                )
            )
        processes.append(subprocess.Popen([PY, "manage.py", "jobs_sweep", "--loop", "5"], **start))
        bench_http.wait_for(f"http://127.0.0.1:{port}/readyz")
        drive(port, token, clients=args.clients, seconds=3, jpeg=jpeg)  # warm-up
        recorder, elapsed = drive(
            port, token, clients=args.clients, seconds=args.seconds, jpeg=jpeg
        )

        total = sum(len(v) for v in recorder.latencies.values())
        print(f"\n{web} web process(es), 2 batch workers, {args.clients} clients, {elapsed:.0f} s:")
        print(
            f"{'':10}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
            f"{'5xx':>6}{'other':>7}"
        )
        for kind in ("classify", "history", "batch"):
            ms = [v * 1000 for v in recorder.latencies.get(kind, [])]
            print(
                f"{kind:10}{len(ms):9d}{len(ms) / elapsed:8.1f}"
                f"{bench_http.percentile(ms, 50):8.1f}{bench_http.percentile(ms, 95):8.1f}"
                f"{bench_http.percentile(ms, 99):8.1f}{recorder.server_errors.get(kind, 0):6d}"
                f"{recorder.other_errors.get(kind, 0):7d}"
            )
        print(f"{'all':10}{total:9d}{total / elapsed:8.1f}")

        # Every batch submitted under load finishes (bounded wait).
        import json

        deadline = time.monotonic() + 300
        pending = list(recorder.batches)
        while pending and time.monotonic() < deadline:
            status, body = request(port, "GET", pending[0].split(str(port), 1)[1], token)
            if status == 200 and json.loads(body)["status"] in ("succeeded", "failed"):
                pending.pop(0)
            else:
                time.sleep(0.5)
        print(
            f"batches: {len(recorder.batches) - len(pending)} of {len(recorder.batches)} "
            f"finished after the load"
        )
        return total / elapsed
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--web", default="1,2", help="web process counts to compare")
    args = parser.parse_args()
    jpeg = bench_http.photo_jpeg()
    rates = {web: run(web, args, jpeg) for web in (int(n) for n in args.web.split(","))}
    counts = sorted(rates)
    for web in counts[1:]:
        ratio = rates[web] / rates[counts[0]]
        print(f"\n{web} web processes vs {counts[0]}: {ratio:.2f}x the requests/s")


if __name__ == "__main__":
    main()
