"""Inference speed on this machine, in one process, against a bare baseline.

    .venv/bin/python bench/inference.py [--seconds 3]

Prints images/s for: bare ONNX Runtime ``session.run`` on a ready tensor (the
ceiling), the project's engine on the same tensor (+ softmax, ranking, names),
the engine from JPEG bytes (640x480 and 4000x3000), and Keras ``model.predict``
per image (the naive way). Ratios are against bare ONNX Runtime, measured in
the same run. Uses the local database (runs bootstrap_models if needed).
"""

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def measure_all(cases: dict, *, seconds: float, rounds: int = 10) -> dict[str, tuple[float, int]]:
    """Images/s per case. The cases take turns in short rounds, so a burst of
    load from elsewhere on the machine hits them all alike."""
    for function in cases.values():
        for _ in range(2):
            function()
    totals = {name: [0, 0.0] for name in cases}
    for _ in range(rounds):
        for name, function in cases.items():
            count, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds / rounds:
                function()
                count += 1
            totals[name][0] += count
            totals[name][1] += elapsed
    return {name: (count / elapsed, count) for name, (count, elapsed) in totals.items()}


def photo_jpeg(width: int, height: int) -> bytes:
    from importlib.resources import files

    from PIL import Image

    source = Image.open(io.BytesIO((files("skimage") / "data" / "astronaut.png").read_bytes()))
    buffer = io.BytesIO()
    source.convert("RGB").resize((width, height), Image.Resampling.LANCZOS).save(
        buffer, "JPEG", quality=90
    )
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per case, over 10 rounds")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("bootstrap_models", stdout=io.StringIO())

    import onnxruntime as ort

    from classification import inference
    from core.images import image_to_tensor
    from models_registry.selectors import model_version_for_alias

    version = model_version_for_alias(alias="default")
    spec = inference.preprocessing_for(version)
    small, big = photo_jpeg(640, 480), photo_jpeg(4000, 3000)
    tensor = image_to_tensor(small, spec)
    # The bare baseline calls run() on the very session the engine caches, so
    # the ratio is the engine's own overhead, not two thread pools competing.
    loaded = inference.sessions.get(version)
    session, name = loaded.session, loaded.input_name

    cases = {
        "bare onnxruntime session.run (tensor)": lambda: session.run(None, {name: tensor}),
        "engine, tensor in (softmax + top-5 + names)": lambda: inference.classify_tensor(
            tensor, version
        ),
        "engine, 640x480 JPEG bytes in": lambda: inference.classify(small, version),
        "engine, 4000x3000 JPEG bytes in": lambda: inference.classify(big, version),
    }
    rows = [(label, *result) for label, result in measure_all(cases, seconds=args.seconds).items()]

    # TensorFlow last and on its own: its thread pools keep spinning after a
    # call and would slow whatever ran next.
    import keras

    with tempfile.TemporaryDirectory() as workdir, version.file.open("rb") as handle:
        path = Path(workdir) / "model.keras"
        path.write_bytes(handle.read())
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    naive = {
        "naive: Keras model.predict per image (tensor)": lambda: model.predict(tensor, verbose=0)
    }
    rows += [(label, *result) for label, result in measure_all(naive, seconds=args.seconds).items()]

    baseline = rows[0][1]
    print(
        f"\nEfficientNet-Lite0, batch 1, {os.cpu_count()} cores, "
        f"onnxruntime {ort.__version__}, INFERENCE_THREADS={django.conf.settings.INFERENCE_THREADS}"
    )
    print(f"{'':48} {'images/s':>9} {'ms/image':>9} {'vs bare ORT':>12} {'n':>6}")
    for label, rate, count in rows:
        print(f"{label:48} {rate:9.1f} {1000 / rate:9.2f} {rate / baseline:11.2f}x {count:6d}")
    naive = rows[-1][1]
    checks = [
        ("engine on tensors >= 0.95x bare ORT", rows[1][1] / baseline, 0.95),
        ("engine from 640x480 JPEG >= 0.5x bare ORT", rows[2][1] / baseline, 0.5),
        ("engine from 640x480 JPEG >= 8x naive Keras", rows[2][1] / naive, 8.0),
        ("4000x3000 JPEG costs < 10x a 640x480 one", rows[2][1] / rows[3][1], None),
    ]
    print()
    for label, ratio, target in checks:
        ok = ratio < 10 if target is None else ratio >= target
        print(f"  [{'ok' if ok else 'MISSED'}] {label}: {ratio:.2f}")
    print(f"\n  (top class of the test photo: {inference.classify(small, version)[0].name})")


if __name__ == "__main__":
    main()
