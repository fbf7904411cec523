"""Inside the sandbox: validate an uploaded ``.keras`` file and convert it to ONNX.

The steps, each of which can refuse the file with a readable reason:

1. ``scan``: the static allowlist scan of ``config.json`` (``keras_scan``);
2. ``load``: ``keras.models.load_model(..., compile=False, safe_mode=True)``;
3. ``shape``: one square RGB input, one output per label;
4. ``smoke``: a prediction that must be finite;
5. ``onnx``: export to ONNX;
6. ``parity``: ONNX Runtime must agree with Keras.

Run by ``models_registry.sandbox_child`` (never in a web or worker process):
file paths in, the ONNX file and a small JSON result out. Messages are
``gettext_noop`` strings; the parent translates them.
"""

import time
from pathlib import Path

from models_registry.keras_scan import read_config, scan_config
from models_registry.sandbox_child import Refused, gettext_noop

ENTRY = "models_registry.keras_checks:validate_keras"
PARITY_TOLERANCE = 1e-3


def validate_keras(args: dict, progress) -> dict:
    """``args``: ``model`` (path of the .keras file), ``onnx`` (where to write
    the conversion), ``num_labels``. Returns input size, output kind, metrics."""
    import numpy as np

    started = time.monotonic()
    model_path, onnx_path = Path(args["model"]), Path(args["onnx"])
    progress("scan")
    scan_config(read_config(model_path))

    progress("load")
    model = _load(model_path)

    progress("shape")
    input_size = _check_shapes(model, int(args["num_labels"]))

    progress("smoke")
    probe = (
        np.random.default_rng(0).uniform(-1, 1, (2, input_size, input_size, 3)).astype(np.float32)
    )
    reference = np.asarray(model(probe, training=False))
    if not np.all(np.isfinite(reference)):
        raise Refused(gettext_noop("The model's smoke prediction gave NaN or infinite values."))

    progress("onnx")
    onnx_bytes = _export_onnx(model, input_size)

    progress("parity")
    max_abs_diff = _parity(onnx_bytes, probe, reference)
    onnx_path.write_bytes(onnx_bytes)
    return {
        "input_size": input_size,
        "output": _output_kind(model),
        "metrics": {
            "parameters": int(model.count_params()),
            "onnx_max_abs_diff": max_abs_diff,
            "onnx_bytes": len(onnx_bytes),
            "validation_seconds": round(time.monotonic() - started, 2),
        },
    }


def _load(path: Path):
    import keras

    try:
        # compile=False: Keras drops the top-level compile_config, as the scan assumes.
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise Refused(
            gettext_noop("Keras could not load the model: %(error)s"), error=str(error)[:500]
        ) from error


def _check_shapes(model, num_labels: int) -> int:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise Refused(gettext_noop("The model must have exactly one input and one output."))
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[3] != 3 or shape[1] != shape[2] or not shape[1]:
        raise Refused(
            gettext_noop(
                "The input must be square RGB images (batch, size, size, 3); "
                "this model takes %(shape)s."
            ),
            shape=str(shape),
        )
    input_size = int(shape[1])
    if not 32 <= input_size <= 1024:
        raise Refused(gettext_noop("The input size must be between 32 and 1024 pixels."))
    out_shape = tuple(model.outputs[0].shape)
    if len(out_shape) != 2 or out_shape[1] != num_labels:
        raise Refused(
            gettext_noop(
                "The model has %(outputs)s outputs but the label set has %(labels)d labels."
            ),
            outputs=str(out_shape[1:] if len(out_shape) != 2 else out_shape[1]),
            labels=num_labels,
        )
    return input_size


def _export_onnx(model, input_size: int) -> bytes:
    import tensorflow as tf
    import tf2onnx

    signature = (tf.TensorSpec((None, input_size, input_size, 3), tf.float32, name="image"),)
    try:
        proto, _external = tf2onnx.convert.from_keras(model, input_signature=signature, opset=17)
    except Exception as error:
        raise Refused(
            gettext_noop("The model could not be converted to ONNX: %(error)s"),
            error=str(error)[:500],
        ) from error
    return proto.SerializeToString()


def _parity(onnx_bytes: bytes, probe, reference) -> float:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    converted = session.run(None, {session.get_inputs()[0].name: probe})[0]
    max_abs_diff = float(np.max(np.abs(converted - reference)))
    if not max_abs_diff <= PARITY_TOLERANCE:
        raise Refused(
            gettext_noop(
                "The ONNX conversion differs from Keras by %(diff).2g (more than %(tol).0e)."
            ),
            diff=max_abs_diff,
            tol=PARITY_TOLERANCE,
        )
    return max_abs_diff


def _output_kind(model) -> str:
    """A model ending in softmax answers probabilities: never softmax twice."""
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    return (
        "probabilities" if activation == "softmax" or type(last).__name__ == "Softmax" else "logits"
    )
