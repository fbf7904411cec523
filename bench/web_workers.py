"""Choosing gunicorn's workers, threads and timeout (config/gunicorn.py).

    .venv/bin/python -P bench/web_workers.py [--seconds 15] [--variants sync:2,gthread:2x4]

On a fresh PostgreSQL database (production settings, one ONNX Runtime thread
per process) it starts gunicorn with ``-c config/gunicorn.py`` once per
variant (``sync:W`` or ``gthread:WxT``; ``gthread:WxTcN`` sets
worker_connections to N) and measures:

1. classify: ``--clients`` clients post a 640x480 JPEG as fast as possible;
2. probes under load: twice as many classify clients, while a prober asks for
   ``/healthz`` (with a pod-IP ``Host``) every 0.25 s: its latency is what the
   kubelet's liveness probe would see;
3. batches: two clients each post a ``--batch``-image zip of 320x240 photos
   in a loop (the heaviest request the API takes) while the prober runs: how
   long one takes, and how long ``/healthz`` waits meanwhile.

All traffic stays on 127.0.0.1; every loop is bounded in time.
"""

import argparse
import http.client
import importlib.util
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

_spec = importlib.util.spec_from_file_location("bench_http", ROOT / "bench" / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)
_spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
bench_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_load)


def start(env: dict, port: int, variant: str) -> subprocess.Popen:
    kind, _, shape = variant.partition(":")
    shape, _, connections = shape.partition("c")
    workers, _, threads = shape.partition("x")
    threads = threads or "1"
    settings = {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": workers,
        "GUNICORN_THREADS": threads if kind == "gthread" else "1",
        "GUNICORN_ACCESS_LOG": "",
    }
    if connections:
        settings["GUNICORN_WORKER_CONNECTIONS"] = connections
    return subprocess.Popen(
        [PY, "-m", "gunicorn", "-c", "config/gunicorn.py", "--log-level", "warning"],
        cwd=ROOT,
        env={**env, **settings},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )


_reported: dict[str, bool] = {}


def worker_rss_mb(master: int) -> float:
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if int(fields.get("PPid", "0")) == master:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


def send(port: int, method: str, path: str, headers: dict, body: bytes = b"") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status >= 400 and not _reported.get(path):
            _reported[path] = True
            print(f"  first error on {path}: {response.status} {body[:300]!r}")
        return response.status
    except OSError:
        return 599
    finally:
        connection.close()


def loop(stop: threading.Event, work, latencies: list[float], errors: list[int]) -> None:
    while not stop.is_set():
        begin = time.perf_counter()
        status = work()
        took = time.perf_counter() - begin
        if 200 <= status < 300:
            latencies.append(took)
        else:
            errors.append(status)


def prober(stop: threading.Event, port: int, latencies: list[float], errors: list[int]) -> None:
    headers = {"Host": "10.244.1.17:8000"}
    while not stop.is_set():
        begin = time.perf_counter()
        status = send(port, "GET", "/healthz", headers)
        (latencies.append(time.perf_counter() - begin) if status == 200 else errors.append(status))
        stop.wait(0.25)


def phase(port: int, seconds: float, clients: list, probe: bool) -> tuple[list, list, list, list]:
    stop = threading.Event()
    work_ms, work_errors, probe_ms, probe_errors = [], [], [], []
    threads = [
        threading.Thread(target=loop, args=(stop, work, work_ms, work_errors)) for work in clients
    ]
    if probe:
        threads.append(threading.Thread(target=prober, args=(stop, port, probe_ms, probe_errors)))
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return work_ms, work_errors, probe_ms, probe_errors


def row(label: str, values: list[float], seconds: float | None, errors: list) -> str:
    ms = [v * 1000 for v in values]
    rate = f"{len(ms) / seconds:8.1f}" if seconds else f"{'':8}"
    p = bench_http.percentile
    return (
        f"  {label:22}{len(ms):6d}{rate}{p(ms, 50):9.1f}{p(ms, 95):9.1f}{p(ms, 99):9.1f}"
        f"{max(ms, default=float('nan')):9.1f}{len(errors):7d}"
    )


def run(variant: str, env: dict, token: str, args, jpeg: bytes, batch: bytes) -> None:
    port = bench_http.free_port()
    server = start(env, port, variant)
    auth = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
    body, boundary = bench_load.multipart({"store": "false"}, [("file", "photo.jpg", jpeg)])
    classify_headers = {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    batch_body, batch_boundary = bench_load.multipart(
        {"store": "false"}, [("archive", "photos.zip", batch)]
    )
    batch_headers = {**auth, "Content-Type": f"multipart/form-data; boundary={batch_boundary}"}

    def classify() -> int:
        return send(port, "POST", "/api/v1/classifications/", classify_headers, body)

    def submit_batch() -> int:
        return send(port, "POST", "/api/v1/batches/", batch_headers, batch_body)

    try:
        bench_http.wait_for(f"http://127.0.0.1:{port}/healthz")
        phase(port, 3, [classify] * args.clients, probe=False)  # warm-up: sessions loaded
        memory = worker_rss_mb(server.pid)
        print(f"\n{variant}: workers' memory {memory:.0f} MB (RSS, all together)")
        print(
            f"  {'':22}{'count':>6}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
            f"{'max ms':>9}{'errors':>7}"
        )
        ms, errors, _, _ = phase(port, args.seconds, [classify] * args.clients, probe=False)
        print(row(f"classify, {args.clients} clients", ms, args.seconds, errors))
        loaded = 2 * args.clients
        ms, errors, probes, probe_errors = phase(
            port, args.seconds, [classify] * loaded, probe=True
        )
        print(row(f"classify, {loaded} clients", ms, args.seconds, errors))
        print(row("  /healthz meanwhile", probes, None, probe_errors))
        ms, errors, probes, probe_errors = phase(port, args.seconds, [submit_batch] * 2, probe=True)
        print(row(f"{args.batch}-image batch x2", ms, args.seconds, errors))
        print(row("  /healthz meanwhile", probes, None, probe_errors))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000, help="images per batch zip")
    parser.add_argument(
        "--variants", default="sync:2,sync:4,gthread:2x2,gthread:2x4,gthread:2x4c100"
    )
    args = parser.parse_args()
    jpeg = bench_http.photo_jpeg()
    # 320x240 photos: a 1000-image zip stays under the 20 MB per-file limit,
    # which the zip itself is held to.
    small = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).resize((320, 240)).save(small, "JPEG", quality=90)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for number in range(args.batch):
            zipped.writestr(f"photos/{number:04}.jpg", small.getvalue())
    batch = archive.getvalue()
    print(
        f"{os.cpu_count()} cores; one {len(jpeg) // 1024} KB JPEG per classify; "
        f"batch zip {len(batch) / 2**20:.1f} MB; {args.seconds:.0f} s per row; PostgreSQL"
    )

    workdir = Path(tempfile.mkdtemp(prefix="picsort-web-workers-"))
    url, cleanup = bench_http.database_url("postgres", workdir)
    env = bench_http.production_env(
        workdir, url, DJANGO_SECURE_SSL_REDIRECT="true", DJANGO_UPLOAD_MAX_PENDING_MB="100000"
    )
    try:
        token = bench_http.prepare_site(env)
        for variant in args.variants.split(","):
            run(variant, env, token, args, jpeg, batch)
    finally:
        cleanup()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
