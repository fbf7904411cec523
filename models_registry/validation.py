"""Validate an uploaded .keras model and convert it to ONNX. Runs in a worker.

The steps, each of which can fail the version with a readable reason:

1. archive checks (zip, member count and sizes, no unsafe paths);
2. a static scan of ``config.json`` against an allowlist of built-in layers
   (no Lambda, no custom objects, no TFSMLayer) -- before Keras sees the file;
3. ``keras.models.load_model(..., safe_mode=True)``;
4. one square RGB input; one output with as many values as the label set has labels;
5. a smoke prediction that must be finite;
6. export to ONNX and a parity check between Keras and ONNX Runtime.

TensorFlow is imported only inside ``validate_and_convert``.
"""

import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from models_registry.models import ModelVersion
from models_registry.services import check_keras_archive, model_version_mark

logger = logging.getLogger(__name__)

ALLOWED_LAYERS = frozenset(
    {
        # structure
        "Functional",
        "Sequential",
        "Model",
        "InputLayer",
        # convolution and pooling
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "SeparableConv1D",
        "SeparableConv2D",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "Conv2DTranspose",
        "MaxPooling1D",
        "MaxPooling2D",
        "AveragePooling1D",
        "AveragePooling2D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "ZeroPadding2D",
        "Cropping2D",
        "UpSampling2D",
        # core and normalisation
        "Dense",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "Dropout",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "Flatten",
        "Reshape",
        "Permute",
        "RepeatVector",
        "Identity",
        "Add",
        "Subtract",
        "Multiply",
        "Average",
        "Maximum",
        "Minimum",
        "Concatenate",
        "Dot",
        "Rescaling",
        "Normalization",
        "Resizing",
        "CenterCrop",
        # training-time augmentation (inactive at inference)
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
        "RandomContrast",
        "RandomBrightness",
        "RandomCrop",
    }
)
# Modules whose objects may appear in a config (initializers, regularizers...).
ALLOWED_MODULES = frozenset(
    {
        "keras",
        "keras.layers",
        "keras.models",
        "keras.initializers",
        "keras.regularizers",
        "keras.constraints",
        "keras.optimizers",
        "keras.losses",
        "keras.metrics",
        "keras.src.models.functional",
        "keras.src.models.sequential",
        "keras.src.engine.functional",
    }
)
LAYER_MODULES = frozenset({"keras.layers"})
PARITY_TOLERANCE = 1e-3


class ValidationFailed(Exception):
    """A readable reason why a model cannot be used."""


@dataclass
class Result:
    onnx: bytes
    input_size: int
    metrics: dict
    output: str = "logits"  # or "probabilities" when the last layer is a softmax


def scan_config(config: object, path: str = "config") -> None:
    """Walks the saved config; refuses anything not on the allowlists."""
    if isinstance(config, list):
        for number, item in enumerate(config):
            scan_config(item, f"{path}[{number}]")
        return
    if not isinstance(config, dict):
        return
    if "class_name" in config:
        class_name = config.get("class_name")
        module = config.get("module")
        registered = config.get("registered_name")
        if class_name in {"Lambda", "TFSMLayer", "__lambda__", "function"}:
            raise ValidationFailed(
                _("The model uses a %(layer)s layer, which can run arbitrary code.")
                % {"layer": class_name}
            )
        if module is not None and module not in ALLOWED_MODULES:
            raise ValidationFailed(
                _(
                    "The model uses “%(name)s” from “%(module)s”; "
                    "only built-in Keras objects are allowed."
                )
                % {"name": class_name, "module": module}
            )
        if registered and registered != class_name and "." not in str(registered):
            raise ValidationFailed(
                _(
                    "The model uses the custom object “%(name)s”; "
                    "only built-in Keras objects are allowed."
                )
                % {"name": registered}
            )
        if module in LAYER_MODULES and class_name not in ALLOWED_LAYERS:
            raise ValidationFailed(
                _("The layer type “%(name)s” is not allowed.") % {"name": class_name}
            )
        if path == "config" and class_name not in {"Functional", "Sequential", "Model"}:
            raise ValidationFailed(_("The file does not hold a Keras model."))
    for key, value in config.items():
        if key == "function" or key == "function_type":
            raise ValidationFailed(_("The model contains serialised Python code."))
        scan_config(value, f"{path}.{key}")


def _read_config(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("config.json")
        if info.file_size > 20 * 2**20:
            raise ValidationFailed(_("The model's config.json is unreasonably large."))
        try:
            return json.loads(archive.read(info))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValidationFailed(_("The model's config.json is not valid JSON.")) from error


def _export_onnx(model, input_size: int) -> bytes:
    import tensorflow as tf
    import tf2onnx

    signature = (tf.TensorSpec((None, input_size, input_size, 3), tf.float32, name="image"),)
    proto, _external = tf2onnx.convert.from_keras(model, input_signature=signature, opset=17)
    return proto.SerializeToString()


def validate_and_convert(
    *, keras_path: Path, num_labels: int, progress=lambda step: None
) -> Result:
    """Everything above, on a file on disk. Raises ValidationFailed."""
    started = time.monotonic()
    progress("scan")
    with open(keras_path, "rb") as handle:
        try:
            check_keras_archive(handle)
        except ApplicationError as error:
            raise ValidationFailed(str(error.message)) from error
    scan_config(_read_config(keras_path))

    progress("load")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    try:
        model = keras.models.load_model(keras_path, compile=False, safe_mode=True)
    except Exception as error:
        raise ValidationFailed(
            _("Keras could not load the model: %(error)s") % {"error": str(error)[:500]}
        ) from error

    progress("shape")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValidationFailed(_("The model must have exactly one input and one output."))
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[3] != 3 or shape[1] != shape[2] or not shape[1]:
        raise ValidationFailed(
            _(
                "The input must be square RGB images (batch, size, size, 3); "
                "this model takes %(shape)s."
            )
            % {"shape": shape}
        )
    input_size = int(shape[1])
    if not 32 <= input_size <= 1024:
        raise ValidationFailed(_("The input size must be between 32 and 1024 pixels."))
    out_shape = tuple(model.outputs[0].shape)
    if len(out_shape) != 2 or out_shape[1] != num_labels:
        raise ValidationFailed(
            _("The model has %(outputs)s outputs but the label set has %(labels)d labels.")
            % {
                "outputs": out_shape[1:] if len(out_shape) != 2 else out_shape[1],
                "labels": num_labels,
            }
        )

    progress("smoke")
    probe = (
        np.random.default_rng(0).uniform(-1, 1, (2, input_size, input_size, 3)).astype(np.float32)
    )
    reference = np.asarray(model(probe, training=False))
    if not np.all(np.isfinite(reference)):
        raise ValidationFailed(_("The model's smoke prediction gave NaN or infinite values."))

    progress("onnx")
    try:
        onnx_bytes = _export_onnx(model, input_size)
    except Exception as error:
        raise ValidationFailed(
            _("The model could not be converted to ONNX: %(error)s") % {"error": str(error)[:500]}
        ) from error

    progress("parity")
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    converted = session.run(None, {session.get_inputs()[0].name: probe})[0]
    max_abs_diff = float(np.max(np.abs(converted - reference)))
    if not max_abs_diff <= PARITY_TOLERANCE:
        raise ValidationFailed(
            _("The ONNX conversion differs from Keras by %(diff).2g (more than %(tol).0e).")
            % {"diff": max_abs_diff, "tol": PARITY_TOLERANCE}
        )
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    output = (
        "probabilities" if activation == "softmax" or type(last).__name__ == "Softmax" else "logits"
    )
    return Result(
        onnx=onnx_bytes,
        input_size=input_size,
        output=output,
        metrics={
            "parameters": int(model.count_params()),
            "onnx_max_abs_diff": max_abs_diff,
            "onnx_bytes": len(onnx_bytes),
            "validation_seconds": round(time.monotonic() - started, 2),
        },
    )


def model_version_validate(*, version_id: int) -> ModelVersion:
    """The worker's job: validate, convert, and mark the version ready or failed."""
    version = ModelVersion.objects.select_related("label_set").get(pk=version_id)
    if version.status in (ModelVersion.Status.READY, ModelVersion.Status.FAILED):
        return version  # already done: a re-delivered task changes nothing
    model_version_mark(
        version=version,
        status=ModelVersion.Status.VALIDATING,
        attempts=version.attempts + 1,
        progress={"step": "start"},
    )

    def progress(step: str) -> None:
        ModelVersion.objects.filter(pk=version.pk).update(progress={"step": step})

    num_labels = version.label_set.labels.count()
    with tempfile.TemporaryDirectory(prefix="model-") as workdir:
        local = Path(workdir) / "model.keras"
        with version.file.open("rb") as source, open(local, "wb") as target:
            digest = hashlib.sha256()
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                digest.update(chunk)
                target.write(chunk)
        try:
            if digest.hexdigest() != version.sha256:
                raise ValidationFailed(_("The stored file does not match its checksum."))
            result = validate_and_convert(
                keras_path=local, num_labels=num_labels, progress=progress
            )
        except ValidationFailed as error:
            logger.info("model version %s failed validation: %s", version.pk, error)
            return _fail(version, str(error))
        except Exception as error:  # a bug or a resource limit: fail, never hang
            logger.exception("model version %s: unexpected validation error", version.pk)
            return _fail(
                version,
                _("An unexpected error stopped the validation (%(error)s).")
                % {"error": type(error).__name__},
            )

    version.refresh_from_db()
    version.onnx_file.save("model.onnx", ContentFile(result.onnx), save=False)
    try:
        model_version_mark(
            version=version,
            status=ModelVersion.Status.READY,
            onnx_sha256=hashlib.sha256(result.onnx).hexdigest(),
            input_size=result.input_size,
            # A model ending in softmax answers probabilities: never softmax twice.
            preprocessing={**version.preprocessing, "output": result.output},
            metrics={**version.metrics, **result.metrics},
            progress={"step": "done"},
            error="",
        )
    except Exception:
        version.onnx_file.delete(save=False)  # no orphan artefact
        raise
    return version


def _fail(version: ModelVersion, reason: str) -> ModelVersion:
    version.refresh_from_db()
    model_version_mark(
        version=version,
        status=ModelVersion.Status.FAILED,
        error=reason,
        progress={"step": "failed"},
    )
    return version
