"""Validate an uploaded model (.keras, converted to ONNX; or .onnx as it is).
Runs in a worker, called by the validation job (``validation_jobs``).

This side checks the archive's shape and hands the file to the sandbox
(``models_registry.sandbox``): one child process per upload, with memory,
CPU-time and wall-clock limits and no network, runs the static allowlist scan
of the config (``keras_scan``), loads the model with ``safe_mode=True``, checks
its shapes, makes a smoke prediction, exports it to ONNX and checks parity
(``keras_checks``); an .onnx upload passes the same gates without Keras
(``onnx_checks``: standard operators only, opset range, no external data,
declared layout and size, shapes, a smoke prediction). Each step can fail the
version with a readable reason; so can any limit the child hits. TensorFlow
never enters the worker process.
"""

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from models_registry import keras_checks, onnx_checks
from models_registry.sandbox import SandboxFailed, sandbox_run
from models_registry.services import check_keras_archive


class ValidationFailed(Exception):
    """A readable reason why a model cannot be used."""


@dataclass
class Result:
    onnx: bytes
    input_size: int
    metrics: dict
    output: str = "logits"  # or "probabilities" when the last layer is a softmax
    int8: object = None  # int8.Int8Build, added by the validation job


def validate_and_convert(
    *,
    model_path: Path,
    num_labels: int,
    model_format: str = "keras",
    preprocessing: dict | None = None,
    progress: Callable[[str], None] = lambda step: None,
    tick: Callable[[], None] | None = None,
) -> Result:
    """Validates a model file on disk in the sandbox: a .keras file is checked
    and converted to ONNX (``keras_checks``), an .onnx file checked against the
    declared layout and size (``onnx_checks``). Raises ValidationFailed
    (``__cause__`` is the ``SandboxFailed``, whose ``reason`` says which kind)."""
    args = {"model": str(Path(model_path).resolve()), "num_labels": num_labels}
    if model_format == "onnx":
        entry = onnx_checks.ENTRY
        args.update(
            layout=(preprocessing or {}).get("layout", "nchw"),
            size=int((preprocessing or {}).get("size") or 0),
        )
    else:
        entry = keras_checks.ENTRY
        with open(model_path, "rb") as handle:
            try:
                check_keras_archive(handle)
            except ApplicationError as error:
                raise ValidationFailed(str(error.message)) from error
    with tempfile.TemporaryDirectory(prefix="convert-") as outdir:
        onnx_path = Path(outdir) / "model.onnx"
        try:
            run = sandbox_run(
                entry=entry,
                args={**args, "onnx": str(onnx_path)},
                progress=progress,
                tick=tick,
            )
        except SandboxFailed as error:
            raise ValidationFailed(str(error)) from error
        return _result(run.result, onnx_path, peak_memory_mb=run.peak_memory_mb)


def _result(answer: dict, onnx_path: Path, *, peak_memory_mb: int | None) -> Result:
    """The child's answer, checked like any untrusted input."""
    input_size, output, metrics = (
        answer.get("input_size"),
        answer.get("output"),
        answer.get("metrics"),
    )
    if (
        not isinstance(input_size, int)
        or not 32 <= input_size <= 1024
        or output not in ("logits", "probabilities")
        or not isinstance(metrics, dict)
        or not all(
            isinstance(key, str) and isinstance(value, int | float) and math.isfinite(value)
            for key, value in metrics.items()
        )
        or not onnx_path.is_file()
        or onnx_path.stat().st_size > settings.MODEL_MAX_UNCOMPRESSED_BYTES
    ):
        raise ValidationFailed(
            _("The validation stopped unexpectedly (%(detail)s).") % {"detail": "malformed answer"}
        )
    if peak_memory_mb is not None:
        metrics = {**metrics, "validation_peak_mb": peak_memory_mb}
    return Result(
        onnx=onnx_path.read_bytes(), input_size=input_size, output=output, metrics=metrics
    )
