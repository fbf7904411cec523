"""The peers bench/http.py races the API against, on the same model file:
bare ONNX Runtime (fp32 and int8), BentoML and a naive Flask + Keras server.
Loaded by bench/http.py; nothing here touches Django."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"


def bare_ort(onnx_file: Path, *, seconds: float, threads: int = 0) -> float:
    """Bare ONNX Runtime on a ready tensor, batch 1, one stream: images/s.
    ``threads`` 0 is ONNX Runtime's default (one per core)."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    tensor = np.random.default_rng(0).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)
    for _ in range(5):
        session.run(None, {name: tensor})
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        session.run(None, {name: tensor})
        count += 1
    return count / (time.perf_counter() - started)


def int8_file(fp32: Path, out: Path, photos: list[bytes]) -> Path:
    """The int8 twin of ``fp32``: ONNX Runtime's static quantization (QDQ,
    per-channel weights, uint8 activations, after quant_pre_process),
    calibrated on ``photos`` with the product's preprocessing."""
    import io

    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from PIL import Image

    sys.path.insert(0, str(ROOT))
    from core.images import Preprocessing, to_tensor

    spec = Preprocessing()
    tensors = [to_tensor(Image.open(io.BytesIO(p)).convert("RGB"), spec) for p in photos]

    class Reader(CalibrationDataReader):
        def __init__(self, input_name: str) -> None:
            self.items = iter([{input_name: t} for t in tensors])

        def get_next(self):
            return next(self.items, None)

    import onnxruntime as ort

    input_name = ort.InferenceSession(str(fp32)).get_inputs()[0].name
    prepared = out.with_suffix(".pre.onnx")
    quant_pre_process(str(fp32), str(prepared))
    quantize_static(
        str(prepared),
        str(out),
        Reader(input_name),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    prepared.unlink()
    return out


def bento_available() -> str:
    """'' when BentoML can run here, else why not."""
    if not (BENCH_VENV / "bin" / "bentoml").exists():
        return "no .venv-bench (make bench-http creates it from requirements/bench.txt)"
    return ""


def start_bento(onnx_file: Path, port: int, *, workers: int) -> subprocess.Popen:
    # Served from the model's folder: in bench/, http.py would shadow the
    # standard library's http package.
    shutil.copy(ROOT / "bench" / "bento_service.py", onnx_file.parent)
    command = [str(BENCH_VENV / "bin" / "bentoml"), "serve", "bento_service:Classifier"]
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=onnx_file.parent,
        env={
            **os.environ,
            "BENCH_ONNX": str(onnx_file),
            "BENCH_WORKERS": str(workers),
            "BENCH_ORT_THREADS": "1",
            "BENTOML_HOME": str(onnx_file.parent / "bentoml"),
            "BENTOML_DO_NOT_TRACK": "true",
            # no access log, as gunicorn's command line (the API's) has none
            "BENTOML_CONFIG_OPTIONS": "api_server.logging.access.enabled=false",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def start_naive(model_keras: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        # -P: the bench folder must not shadow the standard library's http package.
        [
            sys.executable,
            "-P",
            str(ROOT / "bench" / "naive_flask_app.py"),
            *map(str, (model_keras, port)),
        ],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def resident_mb(pids: list[int]) -> list[float]:
    """Resident memory of each process, from /proc (Linux)."""
    sizes = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """py-spy (from .venv-bench) recording one process for ``seconds``."""
    py_spy = BENCH_VENV / "bin" / "py-spy"
    if not py_spy.exists():
        return None
    options = ["-d", str(int(seconds)), "-r", "200", "-f", "raw", "-o", str(out)]
    options += ["--nonblocking", "--full-filenames"]
    return subprocess.Popen(
        [str(py_spy), "record", "-p", str(pid), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children(current))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving ``database`` (their CPU is the API's too)."""
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchall()
    return [row[0] for row in rows]
