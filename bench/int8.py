"""int8 against fp32: the pretrained EfficientNet-Lite0 and its int8 variant,
built the way validation builds it, timed in the same run.

    .venv/bin/python -P bench/int8.py [--seconds 5]

Builds (or reuses from artifacts/model-cache) the pretrained model's ONNX
file, quantizes it in the sandbox exactly as a models worker does
(``models_registry.int8.int8_build``: static QDQ, per channel, the shipped
calibration photos) and prints its gate. Then bare ONNX Runtime
``session.run`` on a ready (1, 224, 224, 3) tensor, fp32 and int8 taking turns
in short rounds, on one thread and on ONNX Runtime's default threads, and the
int8/fp32 ratio of each. No database is used.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["DJANGO_MODEL_INT8_VARIANTS"] = "true"

from bench.inference import measure_all  # noqa: E402

CACHE = ROOT / "artifacts" / "model-cache"


def fp32_onnx() -> bytes:
    """The pretrained model's validated ONNX file (converted once, then cached
    next to the one the tests use)."""
    from importlib.metadata import version as package_version

    from models_registry.pretrained import VARIANTS, convert_to_keras
    from models_registry.validation import validate_and_convert

    variant = VARIANTS["lite0"]
    cached = CACHE / f"{variant.key}-{package_version(variant.package)}" / "model.onnx"
    if cached.exists():
        return cached.read_bytes()
    with tempfile.TemporaryDirectory(prefix="bench-int8-") as workdir:
        keras_path = convert_to_keras(variant=variant, destination=Path(workdir) / "m.keras")
        return validate_and_convert(model_path=keras_path, num_labels=1000).onnx


def session(data: bytes, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per case, over 10 rounds")
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np

    from core.images import Preprocessing
    from models_registry.int8 import int8_build

    onnx = fp32_onnx()
    build = int8_build(onnx=onnx, spec=Preprocessing(), output="logits")
    gate = {key: value for key, value in build.gate.items() if key != "built_at"}
    print("gate:", json.dumps(gate))
    if build.data is None:
        sys.exit("no int8 file was built")
    tensor = np.random.default_rng(0).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)
    cases = {}
    for threads in (1, 0):
        for precision, data in (("fp32", onnx), ("int8", build.data)):
            runner = session(data, threads)
            name = runner.get_inputs()[0].name
            cases[(precision, threads)] = lambda r=runner, n=name: r.run(None, {n: tensor})
    results = measure_all(cases, seconds=args.seconds)
    print(f"{'precision':<10}{'threads':>8}{'images/s':>10}{'int8/fp32':>11}")
    for (precision, threads), (rate, _count) in results.items():
        ratio = rate / results[("fp32", threads)][0]
        label = threads or "default"
        print(f"{precision:<10}{label:>8}{rate:>10.1f}{ratio:>10.2f}x")
    print(f"machine: {os.cpu_count()} cores; cpu flags:", _cpu_flags())


def _cpu_flags() -> str:
    try:
        flags = next(
            line for line in Path("/proc/cpuinfo").read_text().splitlines() if "flags" in line
        )
    except (OSError, StopIteration):
        return "unknown"
    wanted = ("avx512_vnni", "amx_int8", "avx_vnni", "avx2")
    return ", ".join(flag for flag in wanted if f" {flag}" in flags) or "none of VNNI/AMX"


if __name__ == "__main__":
    main()
