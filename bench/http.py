"""HTTP throughput and latency of POST /api/v1/classifications/ under gunicorn.

    .venv/bin/python bench/http.py [--seconds 15] [--clients 4] [--workers 2] [--db sqlite,postgres]

For each database it makes a fresh database and media folder, bootstraps the
model, starts gunicorn (production settings) on 127.0.0.1 and drives it with
concurrent clients posting a 640x480 JPEG for a fixed time: first as fast as
possible (the maximum rate), then paced at half that rate (latency under a
normal load). In the same run it measures bare ONNX Runtime on tensors and a
naive Flask app calling Keras model.predict per request, and prints ratios.
All traffic stays on 127.0.0.1 and every loop is bounded in time.
"""

import sys

# This file is called http.py: keep its folder off the import path, or it
# would shadow the standard library's http package.
sys.path[:] = [p for p in sys.path if not p.rstrip("/").endswith("bench")]

import argparse  # noqa: E402
import http.client  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def photo_jpeg() -> bytes:
    from importlib.resources import files

    from PIL import Image

    source = Image.open(io.BytesIO((files("skimage") / "data" / "chelsea.png").read_bytes()))
    buffer = io.BytesIO()
    source.convert("RGB").resize((640, 480), Image.Resampling.LANCZOS).save(
        buffer, "JPEG", quality=90
    )
    return buffer.getvalue()


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Result:
    def __init__(self, latencies: list[float], errors: int, elapsed: float) -> None:
        self.latencies, self.errors, self.elapsed = latencies, errors, elapsed

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def row(self, label: str) -> str:
        ms = [v * 1000 for v in self.latencies]
        return (
            f"{label:44} {self.rate:8.1f} {percentile(ms, 50):8.1f} {percentile(ms, 95):8.1f} "
            f"{percentile(ms, 99):8.1f} {self.errors:7d}"
        )


def drive(send, *, clients: int, seconds: float, rate: float | None = None) -> Result:
    """``clients`` threads call ``send()`` for ``seconds``; paced to ``rate``/s in
    total when given (open loop: latency counts from the scheduled start)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds

    def client(number: int) -> None:
        interval = clients / rate if rate else 0.0
        next_start = started + number * (interval / clients if rate else 0)
        while True:
            if rate:
                now = time.perf_counter()
                if next_start > now:
                    time.sleep(next_start - now)
                begin = next_start
                next_start += interval
            else:
                begin = time.perf_counter()
            if begin >= deadline:
                return
            ok = send()
            took = time.perf_counter() - begin
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(latencies, errors[0], time.perf_counter() - started)


def poster(url: str, headers: dict, field: str, data: bytes, extra: dict | None = None):
    """A sender that posts one prepared multipart body over plain http.client:
    the load generator shares the machine's cores, so it should cost little."""
    from urllib.parse import urlsplit

    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (extra or {}).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="cat.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    all_headers = {
        **headers,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(body)),
    }
    target = urlsplit(url)

    def send() -> bool:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            connection.request("POST", target.path, body=body, headers=all_headers)
            response = connection.getresponse()
            response.read()
            return response.status < 300
        except OSError:
            return False
        finally:
            connection.close()

    return send


def database_url(kind: str, workdir: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: None
    import psycopg

    name = f"picsort_bench_{secrets.token_hex(4)}"
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(
            "postgres://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgres://postgres@127.0.0.1:5432/{name}", drop


def production_env(workdir: Path, database_url: str, **extra: str) -> dict:
    """Production settings for a throw-away site in ``workdir``: plain http on
    127.0.0.1, one ONNX Runtime thread per process, rate limits out of the way."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_EMAIL_URL": "consolemail://",
        "DATABASE_URL": database_url,
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_INFERENCE_THREADS": os.environ.get("BENCH_INFERENCE_THREADS", "1"),
        "DJANGO_THROTTLE_CLASSIFY": "1000000/minute",
        "DJANGO_THROTTLE_BATCH": "1000000/hour",
        "DJANGO_THROTTLE_USER": "1000000/hour",
        "DJANGO_THROTTLE_ANON": "1000000/hour",
        "DJANGO_LOG_LEVEL": "WARNING",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **extra,
    }


def manage(env: dict, *command: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


SEED_USER = (
    "from accounts.models import User; from accounts.services import api_token_create;"
    "u = User.objects.create_user(email='bench@example.com');"
    "print(api_token_create(user=u, name='bench')[1])"
)


def prepare_site(env: dict, seed: str = SEED_USER) -> str:
    """Migrates, collects static files and bootstraps the model; runs ``seed``
    in ``manage.py shell`` and returns the last line it prints (a token)."""
    for command in (
        ["migrate", "--noinput"],
        ["createcachetable"],
        ["collectstatic", "--noinput"],
        ["bootstrap_models"],
    ):
        manage(env, *command)
    return manage(env, "shell", "-c", seed).strip().splitlines()[-1]


def start_gunicorn(env: dict, port: int, workers: int, **popen) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:``port``, in its own process group (killpg stops it)."""
    return subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        **popen,
    )


def run_variant(kind: str, args, jpeg: bytes) -> tuple[float, Result, Result, Path]:
    workdir = Path(tempfile.mkdtemp(prefix=f"picsort-bench-{kind}-"))
    url, cleanup = database_url(kind, workdir)
    port = free_port()
    env = production_env(workdir, url)
    server = None
    try:
        token = prepare_site(env)
        server = start_gunicorn(env, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz")
        # The ceiling, measured right before the API on the same machine state.
        ort_rate = bare_ort(next((workdir / "media" / "models").rglob("model.onnx")), seconds=5)
        send = poster(
            f"{base}/api/v1/classifications/",
            {"Authorization": f"Bearer {token}"},
            "file",
            jpeg,
            {"store": "false"},
        )
        drive(send, clients=args.clients, seconds=2)  # warm-up: sessions loaded in every worker
        peak = drive(send, clients=args.clients, seconds=args.seconds)
        half = drive(send, clients=args.clients, seconds=args.seconds, rate=peak.rate / 2)
        keep = Path(tempfile.mkdtemp(prefix="picsort-bench-model-"))
        for name in ("model.keras", "model.onnx"):
            shutil.copy(next((workdir / "media" / "models").rglob(name)), keep / name)
        return ort_rate, peak, half, keep / "model.keras"
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def bare_ort(onnx_file: Path, seconds: float) -> float:
    """Bare ONNX Runtime on a ready tensor, one stream, the version's own ONNX file."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    tensor = np.random.default_rng(0).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)
    for _ in range(5):
        session.run(None, {name: tensor})
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        session.run(None, {name: tensor})
        count += 1
    return count / (time.perf_counter() - started)


def naive_flask(model_keras: Path, args, jpeg: bytes) -> Result:
    port = free_port()
    server = subprocess.Popen(
        # -P: the bench folder must not shadow the standard library's http package.
        [PY, "-P", str(ROOT / "bench" / "naive_flask_app.py"), str(model_keras), str(port)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", seconds=120)
        send = poster(f"http://127.0.0.1:{port}/classify", {}, "file", jpeg)
        drive(send, clients=args.clients, seconds=2)
        return drive(send, clients=args.clients, seconds=args.seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    jpeg = photo_jpeg()

    rows, model_keras = [], None
    for kind in args.db.split(","):
        ort_rate, peak, half, model_keras = run_variant(kind, args, jpeg)
        rows.append((kind, ort_rate, peak, half))
    naive = naive_flask(model_keras, args, jpeg)
    shutil.rmtree(model_keras.parent, ignore_errors=True)

    print(
        "\nPOST /api/v1/classifications/ with one 640x480 JPEG, store=false; "
        f"{os.cpu_count()} cores, gunicorn {args.workers} workers, {args.clients} clients, "
        f"{args.seconds:.0f} s per row"
    )
    print(f"{'':44} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind, ort_rate, peak, half in rows:
        print(f"{f'bare onnxruntime session.run, before {kind}':44} {ort_rate:8.1f}")
        print(peak.row(f"API, {kind}, as fast as possible"))
        print(half.row(f"API, {kind}, paced at half that rate"))
    print(naive.row("naive Flask + Keras model.predict"))
    print()
    for kind, ort_rate, peak, half in rows:
        checks = [
            (f"{kind}: API >= 0.5x bare ORT", peak.rate / ort_rate, peak.rate / ort_rate >= 0.5),
            (
                f"{kind}: API >= 8x naive baseline",
                peak.rate / naive.rate,
                peak.rate / naive.rate >= 8,
            ),
            (
                f"{kind}: p99 at half rate < 100 ms",
                percentile(half.latencies, 99) * 1000,
                percentile(half.latencies, 99) < 0.1,
            ),
            (f"{kind}: zero errors", peak.errors + half.errors, peak.errors + half.errors == 0),
        ]
        for label, value, ok in checks:
            print(f"  [{'ok' if ok else 'MISSED'}] {label}: {value:.2f}")


if __name__ == "__main__":
    main()
