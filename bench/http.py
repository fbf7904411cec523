"""POST /api/v1/classifications/ against its peers, same client, same run.

    make bench-http BENCH_ARGS="--seconds 20 --clients 8"
    .venv/bin/python bench/http.py [--threads 4] [--requests 10000] [--profile] [--no-naive]

Makes a fresh PostgreSQL database and media folder, bootstraps the model and
serves the API with gunicorn (production settings, Redis for the cache when
it answers, as scripts/prod-local does). The same EfficientNet-Lite0 ONNX file
then runs as: bare ONNX Runtime on a tensor (batch 1, default threads; fp32
and int8: the product's own int8 file when validation made one, else one
quantized here), the API (store=false, then keeping the images), BentoML
(bench/bento_service.py, from .venv-bench: adaptive batching, no database)
and a naive Flask + Keras server. Each server gets a warm-up, then as fast as
possible, then paced at half that rate; the same 640x480 JPEG over keep-alive
connections. Besides req/s it reads the CPU seconds each server's processes
(and the API's PostgreSQL backends) used, so requests per CPU second compare
the servers even when other work shares the cores. Every ratio and the
issue's targets are printed; --profile adds where one web process spends its
time (py-spy). All traffic stays on 127.0.0.1; every loop is bounded.
"""

import sys

# This file is called http.py: keep its folder off the import path, or it
# would shadow the standard library's http package.
sys.path[:] = [p for p in sys.path if not p.rstrip("/").endswith("bench")]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
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
        self.cpu = 0.0  # CPU seconds the server used meanwhile (0: not measured)

    @property
    def per_cpu_second(self) -> float:
        return len(self.latencies) / self.cpu if self.cpu else float("nan")

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
    """A sender that posts one prepared multipart body over plain http.client,
    one keep-alive connection per client thread (opened again after an error):
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
    local = threading.local()

    def send() -> bool:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(
                target.hostname, target.port, timeout=30
            )
        try:
            connection.request("POST", target.path, body=body, headers=all_headers)
            response = connection.getresponse()
            response.read()
            if response.will_close:
                connection.close()
            return response.status < 300
        except (OSError, http.client.HTTPException):
            connection.close()
            local.connection = None
            return False

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
        **shared_cache(database_url),
        **extra,
    }


def shared_cache(database_url: str) -> dict:
    """Redis for the cache and rate limits when it answers on 127.0.0.1:6379,
    as scripts/prod-local does (one key prefix per database); else production's
    fallback, the database cache table."""
    try:
        import redis

        redis.Redis(socket_connect_timeout=1).ping()
    except Exception:
        return {}
    prefix = database_url.rstrip("/").rsplit("/", 1)[-1].replace(".", "_")
    return {"DJANGO_CACHE_URL": f"redis://127.0.0.1:6379/1?key_prefix={prefix}"}


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


def start_gunicorn(
    env: dict, port: int, workers: int, *, threads: int = 1, **popen
) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:``port``, in its own process group (killpg stops it);
    ``threads`` > 1 is the gthread worker, as config/gunicorn.py chooses."""
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
            str(threads),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        **popen,
    )


_spec = importlib.util.spec_from_file_location("bench_http_peers", ROOT / "bench" / "http_peers.py")
peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peers)


class Stopped:
    """Starts a server with ``start()``, stops its process group on exit."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def __enter__(self) -> subprocess.Popen:
        return self.process

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def race(send, args, *, cpu=None, half: bool = True) -> tuple[Result, Result | None]:
    """Warm-up, then as fast as possible, then paced at half that rate.
    ``cpu()``: the CPU seconds the server has used so far (its processes),
    so the peak also says how many requests it answers per CPU second: a
    measure that other load on the machine moves far less than req/s."""
    drive(send, clients=args.clients, seconds=2)
    used = cpu() if cpu else 0.0
    peak = drive(send, clients=args.clients, seconds=args.seconds)
    peak.cpu = cpu() - used if cpu else 0.0
    if not half:
        return peak, None
    return peak, drive(send, clients=args.clients, seconds=args.seconds, rate=peak.rate / 2)


def api_rows(args, env: dict, token: str, jpeg: bytes, rows: dict, workdir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1/classifications/"
    auth = {"Authorization": f"Bearer {token}"}
    server = start_gunicorn(env, port, args.workers, threads=args.threads)
    with Stopped(server):
        wait_for(f"http://127.0.0.1:{port}/healthz")
        send = poster(base, auth, "file", jpeg, {"store": "false"})
        drive(send, clients=args.clients, seconds=2)  # sessions loaded in every worker
        database = env["DATABASE_URL"].rsplit("/", 1)[-1]

        def cpu() -> float:
            return peers.cpu_seconds(
                peers.descendants(server.pid) + peers.postgres_backends(database)
            )

        recorder = None
        if args.profile:
            worker = peers.children(server.pid)[0]
            recorder = peers.profile(worker, args.seconds, workdir / "profile.txt")
        rows["API, store=false"], rows["API, store=false, half rate"] = race(send, args, cpu=cpu)
        if recorder is not None:
            recorder.wait(timeout=args.seconds + 60)
        kept = poster(base, auth, "file", jpeg)
        rows["API, images kept"], _ = race(kept, args, cpu=cpu, half=False)
        served = sum(len(rows[k].latencies) + rows[k].errors for k in list(rows)[-3:])
        if args.requests > served:  # up to --requests in all, then the memory
            drive_count(send, clients=args.clients, count=args.requests - served)
        rows["memory"] = peers.resident_mb(peers.children(server.pid))


def drive_count(send, *, clients: int, count: int) -> None:
    left = [count]
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            send()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def peer_rows(args, jpeg: bytes, model_dir: Path, rows: dict, notes: list[str]) -> None:
    why = peers.bento_available()
    if why:
        notes.append(f"BentoML not run: {why}")
    else:
        # The machine may have changed meanwhile (shared cores): the ceiling again.
        rows["bare ORT fp32, again"] = peers.bare_ort(model_dir / "model.onnx", seconds=5)
        port = free_port()
        bento = peers.start_bento(model_dir / "model.onnx", port, workers=args.workers)
        with Stopped(bento):
            wait_for(f"http://127.0.0.1:{port}/readyz", seconds=180)
            send = poster(f"http://127.0.0.1:{port}/classify", {}, "images", jpeg)
            cpu = lambda: peers.cpu_seconds(peers.descendants(bento.pid))  # noqa: E731
            rows["BentoML"], rows["BentoML, half rate"] = race(send, args, cpu=cpu)
    if args.naive:
        port = free_port()
        naive = peers.start_naive(model_dir / "model.keras", port)
        with Stopped(naive):
            wait_for(f"http://127.0.0.1:{port}/", seconds=180)
            send = poster(f"http://127.0.0.1:{port}/classify", {}, "file", jpeg)
            cpu = lambda: peers.cpu_seconds(peers.descendants(naive.pid))  # noqa: E731
            rows["naive Flask + Keras"], _ = race(send, args, cpu=cpu, half=False)


def bare_rows(model_dir: Path, rows: dict, notes: list[str], label: str) -> None:
    rows[f"bare ORT fp32{label}"] = peers.bare_ort(model_dir / "model.onnx", seconds=5)
    if (model_dir / "model.int8.onnx").exists():
        rows[f"bare ORT int8{label}"] = peers.bare_ort(model_dir / "model.int8.onnx", seconds=5)


def find_int8(media: Path, model_dir: Path, notes: list[str]) -> None:
    """The product's int8 file when validation made one, else one built here."""
    built = sorted(p for p in media.rglob("*.onnx") if "int8" in p.name)
    if built:
        shutil.copy(built[0], model_dir / "model.int8.onnx")
        notes.append(f"int8: the product's own file ({built[0].name})")
        return
    _photos = importlib.util.spec_from_file_location(
        "bench_throwaway", ROOT / "bench" / "throwaway.py"
    )
    throwaway = importlib.util.module_from_spec(_photos)
    _photos.loader.exec_module(throwaway)
    peers.int8_file(model_dir / "model.onnx", model_dir / "model.int8.onnx", throwaway.photos(36))
    notes.append("int8: built by the bench (static QDQ, per channel, 36 calibration photos)")


def _row(label: str, value: "Result", bare: float, bento: "Result | None") -> str:
    ms = [v * 1000 for v in value.latencies]
    versus = f"{value.rate / bento.rate:8.2f}" if bento else f"{'':8}"
    per_cpu = f"{value.per_cpu_second:9.1f}" if value.cpu else f"{'':9}"
    versus_cpu = ""
    if value.cpu and bento and bento.cpu:
        versus_cpu = f"{value.per_cpu_second / bento.per_cpu_second:9.2f}"
    return (
        f"{label:32} {value.rate:7.1f} {percentile(ms, 50):7.0f} {percentile(ms, 99):7.0f} "
        f"{value.errors:6d} {value.rate / bare:6.2f} {versus} {per_cpu} {versus_cpu}"
    )


def report(args, rows: dict, notes: list[str]) -> None:
    started, ended = rows.pop("load"), os.getloadavg()
    memory = rows.pop("memory", [])
    print(
        f"\nOne 640x480 JPEG per request, {args.clients} clients on keep-alive connections, "
        f"{args.seconds:.0f} s per row; {os.cpu_count()} cores ({platform.machine()}), load "
        f"average {started[0]:.1f} before and {ended[0]:.1f} after; API: gunicorn "
        f"{args.workers} x {args.threads} threads, PostgreSQL, 1 ONNX Runtime thread a process"
    )
    bare = rows.get("bare ORT fp32") or 1.0
    bento = rows.get("BentoML")
    print(
        f"{'':32} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'vs ORT':>6} "
        f"{'vs Bento':>8} {'req/CPU-s':>9} {'vs Bento':>9}"
    )
    for label, value in rows.items():
        if isinstance(value, float):
            print(f"{label:32} {value:7.1f} {'':7} {'':7} {'':6} {value / bare:6.2f}")
        elif value is not None:
            print(_row(label, value, bare, bento))
    api, kept, half = (
        rows[k] for k in ("API, store=false", "API, images kept", "API, store=false, half rate")
    )
    p99 = percentile(half.latencies, 99) * 1000
    checks = [
        ("API fp32 >= 1.0x BentoML, req/s", api.rate / bento.rate if bento else float("nan"), 1.0),
        (
            "API fp32 >= 1.0x BentoML, req per CPU second",
            api.per_cpu_second / bento.per_cpu_second if bento else float("nan"),
            1.0,
        ),
        ("keeping images costs <= 20 % (kept / not kept)", kept.rate / api.rate, 0.8),
        (f"p99 at half the peak rate < 100 ms ({p99:.0f} ms): 100 / p99", 100 / max(p99, 1e-9), 1),
    ]
    if memory:
        sizes = ", ".join(f"{m:.0f}" for m in memory)
        label = f"web processes < 300 MB after {args.requests} requests ({sizes} MB)"
        checks.append((label, 300 / max(memory), 1.0))
    if "naive Flask + Keras" in rows:
        checks.append(
            ("API >= 8x naive Flask + Keras", api.rate / rows["naive Flask + Keras"].rate, 8)
        )
    print()
    for label, value, target in checks:
        print(f"  [{'ok' if value >= target else 'MISSED'}] {label}: {value:.2f}")
    for note in notes:
        print(f"  note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="web processes (and BentoML's)")
    parser.add_argument("--threads", type=int, default=4, help="threads per web process")
    parser.add_argument(
        "--requests", type=int, default=10_000, help="API requests before the memory is read"
    )
    parser.add_argument("--profile", action="store_true", help="py-spy one web process at peak")
    parser.add_argument("--no-naive", dest="naive", action="store_false")
    args = parser.parse_args()
    jpeg = photo_jpeg()
    rows: dict = {"load": os.getloadavg()}
    notes: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="picsort-bench-http-"))
    url, cleanup = database_url("postgres", workdir)
    env = production_env(workdir, url)
    notes.append(f"cache: {env.get('DJANGO_CACHE_URL', 'the database cache table')}")
    model_dir = workdir / "model"
    model_dir.mkdir()
    try:
        token = prepare_site(env)
        media = workdir / "media" / "models"
        for name in ("model.keras", "model.onnx"):
            shutil.copy(next(media.rglob(name)), model_dir / name)
        find_int8(media, model_dir, notes)
        bare_rows(model_dir, rows, notes, "")
        api_rows(args, env, token, jpeg, rows, workdir)
        if args.profile and (workdir / "profile.txt").exists():
            print(profile_summary(workdir / "profile.txt"), flush=True)
        peer_rows(args, jpeg, model_dir, rows, notes)
    finally:
        cleanup()
        report(args, rows, notes) if "API, store=false" in rows else None
        shutil.rmtree(workdir, ignore_errors=True)


# Where a request's time goes: the project's own code and a few known costs.
HOTSPOTS = (
    "onnxruntime",
    "psycopg/cursor",
    "redis/",
    "multipartparser",
    "PIL/",
    "rest_framework/",
    "json/",
    "django/core/files",
)


def profile_summary(raw: Path, top: int = 45) -> str:
    """py-spy's collapsed stacks -> the functions holding the most samples
    (inclusive, line numbers folded), as a share of the process's samples."""
    totals: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        for frame in {re.sub(r":\d+\)$", ")", f) for f in stack.split(";")}:
            totals[frame] = totals.get(frame, 0) + int(count)
    ours = [
        (frame, count)
        for frame, count in totals.items()
        if ("site-packages" not in frame and "/lib/python" not in frame)
        or any(mark in frame for mark in HOTSPOTS)
    ]
    lines = [f"\npy-spy, one web process at peak ({samples} samples), inclusive:"]
    for frame, count in sorted(ours, key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {100 * count / max(1, samples):5.1f} %  {frame[-120:]}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
