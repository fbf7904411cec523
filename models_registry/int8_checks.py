"""Inside the sandbox: build a model's int8 variant and compare it with fp32.

ONNX Runtime's static quantization: ``quant_pre_process`` (shape inference and
graph clean-up), then ``quantize_static`` in QDQ format with per-channel int8
weights and uint8 activations whose ranges come from the calibration tensors
(min/max). Both files then answer the measured tensors, and the child returns
numbers only: how often the top-1 class agrees, and the accuracy of each on
the labelled ones. The worker decides the gate (``int8``).

Run by ``models_registry.sandbox_child``: file paths in, the int8 file and a
small JSON result out. The fp32 file passed validation before it comes here.
"""

import time
from pathlib import Path

from models_registry.sandbox_child import Refused, gettext_noop

ENTRY = "models_registry.int8_checks:build_int8"
CHUNK = 32
CALIBRATION_BATCH = 4
MAX_INTERMEDIATE_OUTPUTS = 6  # calibration keeps at most this many batches in memory


def build_int8(args: dict, progress) -> dict:
    """``args``: ``onnx`` (the fp32 file), ``int8`` (where the variant goes),
    ``calibration``, ``measure`` (.npy tensors), ``labels`` (.npy, the true
    class of each measured tensor or -1), ``output`` (logits or probabilities)."""
    import numpy as np

    started = time.monotonic()
    progress("quantize")
    fp32_path, int8_path = Path(args["onnx"]), Path(args["int8"])
    calibration = np.load(args["calibration"])
    _quantize(fp32_path, int8_path, calibration)
    progress("compare")
    measure, labels = np.load(args["measure"]), np.load(args["labels"])
    softmax = args.get("output", "logits") == "logits"
    fp32 = _probabilities(fp32_path.read_bytes(), measure, softmax)
    int8 = _probabilities(int8_path.read_bytes(), measure, softmax)
    return {
        "metrics": _compare(fp32, int8, labels),
        "int8_bytes": int8_path.stat().st_size,
        "seconds": round(time.monotonic() - started, 1),
    }


def _quantize(fp32_path: Path, int8_path: Path, calibration) -> None:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = int8_path.with_name("prepared.onnx")
    try:
        quant_pre_process(str(fp32_path), str(prepared))
    except Exception:  # some graphs defeat shape inference: quantize them as they are
        prepared = fp32_path
    input_name = onnx.load(str(prepared), load_external_data=False).graph.input[0].name

    batches = range(0, len(calibration), CALIBRATION_BATCH)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.starts = iter(batches)

        def get_next(self):
            start = next(self.starts, None)
            if start is None:
                return None
            return {input_name: calibration[start : start + CALIBRATION_BATCH]}

    try:
        quantize_static(
            str(prepared),
            str(int8_path),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            extra_options={
                **_calibration_options(len(batches)),
                "QDQDisableWeightAdjustForInt32Bias": True,
            },
        )
    except Exception as error:
        raise Refused(
            gettext_noop("ONNX Runtime could not quantize the model: %(error)s"),
            error=str(error)[:300],
        ) from error


def _calibration_options(batches: int) -> dict:
    """Ranges are folded in every few batches (bounded memory); a count that
    divides the batches exactly leaves ONNX Runtime's last fold empty, which it
    refuses, so one that does not."""
    for limit in range(MAX_INTERMEDIATE_OUTPUTS, 1, -1):
        if batches > limit and batches % limit:
            return {"CalibMaxIntermediateOutputs": limit}
    return {}


def _probabilities(data: bytes, tensors, softmax: bool):
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rows = [
        session.run(None, {name: tensors[start : start + CHUNK]})[0]
        for start in range(0, len(tensors), CHUNK)
    ]
    outputs = np.concatenate(rows).astype(np.float64)
    if softmax:
        outputs = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        outputs /= outputs.sum(axis=1, keepdims=True)
    return outputs


def _compare(fp32, int8, labels) -> dict:

    top_fp32, top_int8 = fp32.argmax(axis=1), int8.argmax(axis=1)
    labelled = labels >= 0
    metrics = {
        "photos": len(top_fp32),
        "agreement": float((top_fp32 == top_int8).mean()) if len(top_fp32) else 0.0,
        "labelled": int(labelled.sum()),
    }
    if labelled.any():
        truth = labels[labelled]
        metrics["accuracy_fp32"] = float((top_fp32[labelled] == truth).mean())
        metrics["accuracy_int8"] = float((top_int8[labelled] == truth).mean())
    return metrics
