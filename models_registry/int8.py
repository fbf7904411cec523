"""int8 variants: built next to the fp32 file, served only when they pass a gate.

Validation (and training, and the pretrained bootstrap) quantizes every model
in the sandbox (``int8_checks``), calibrated on the shipped photos
(``calibration``), then compares int8 with fp32 on photos it never saw: labelled
photos when there are some (the newest ready evaluation set of the label set,
or a trained classifier's validation photos), else the held-out calibration
views. The gate: top-1 agreement with fp32 of at least ``MIN_AGREEMENT``, and,
on labelled photos, accuracy no more than ``MAX_ACCURACY_DROP`` below fp32's. The result is
stored on the version (``int8_gate``) whether it passed or not; the int8 file
only when it passed.

``served_file`` is what the inference engine loads: the int8 file when the
version (a grouping: its base) passed and ``INFERENCE_PRECISION`` is "auto",
the fp32 file otherwise.
"""

import hashlib
import logging
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from core.images import Preprocessing
from models_registry import int8_checks
from models_registry.calibration import calibration_split
from models_registry.models import ModelVersion
from models_registry.sandbox import SandboxFailed, sandbox_run

logger = logging.getLogger(__name__)

MIN_AGREEMENT = 0.99
MAX_ACCURACY_DROP = 0.01
FP32, INT8 = "fp32", "int8"


@dataclass(frozen=True)
class LabelledPhotos:
    """Preprocessed photos whose true class (an output index) is known."""

    tensors: np.ndarray
    labels: np.ndarray
    measured_on: str  # "evaluation_set" or "validation_photos"
    name: str = ""


# Other apps (evaluation) offer labelled photos for a version: the first
# source that answers is measured. Registered from their AppConfig.ready.
_labelled_sources: list[Callable[[ModelVersion], LabelledPhotos | None]] = []


def labelled_photos_source_register(source: Callable[[ModelVersion], LabelledPhotos | None]):
    if source not in _labelled_sources:
        _labelled_sources.append(source)


def labelled_photos_for(version: ModelVersion) -> LabelledPhotos | None:
    for source in _labelled_sources:
        try:
            photos = source(version)
        except Exception:  # a bad photo must not stop a validation
            logger.exception("model version %s: labelled photos unavailable", version.pk)
            continue
        if photos is not None and len(photos.labels):
            return photos
    return None


@dataclass(frozen=True)
class ServedFile:
    file: FieldFile
    sha256: str
    precision: str  # FP32 or INT8


def served_file(version: ModelVersion) -> ServedFile:
    """The file the engine runs for ``version``: int8 when it passed its gate
    (a grouping runs its base's network, so its base's gate decides)."""
    network = version.base_version if version.source == ModelVersion.Source.GROUPING else version
    if (
        settings.INFERENCE_PRECISION == "auto"
        and network is not None
        and network.int8_sha256
        and network.int8_gate.get("passed") is True
    ):
        return ServedFile(network.int8_file, network.int8_sha256, INT8)
    return ServedFile(version.onnx_file, version.onnx_sha256, FP32)


def served_precision(version: ModelVersion) -> str:
    return served_file(version).precision


@dataclass(frozen=True)
class Int8Build:
    data: bytes | None  # the int8 file (kept on the version only when it passed)
    gate: dict


def int8_build(
    *,
    onnx: bytes,
    spec: Preprocessing,
    output: str,
    labelled: LabelledPhotos | None = None,
    calibration: np.ndarray | None = None,
    tick: Callable[[], None] | None = None,
) -> Int8Build:
    """Quantizes ``onnx`` in the sandbox and decides the gate. ``calibration``
    replaces the shipped calibration views (a trained classifier adds its own
    photos)."""
    if not settings.MODEL_INT8_VARIANTS:
        return Int8Build(None, {"passed": False, "reason": "off"})
    views, held_out = calibration_split(spec)
    calibration = views if calibration is None else calibration
    measure, labels = held_out, np.full(len(held_out), -1, dtype=np.int64)
    if labelled is not None:
        measure, labels = labelled.tensors.astype(np.float32), labelled.labels.astype(np.int64)
    gate = {
        "measured_on": labelled.measured_on if labelled else "calibration_split",
        "measured_on_name": labelled.name if labelled else "",
        "built_at": timezone.now().isoformat(),
    }
    with tempfile.TemporaryDirectory(prefix="int8-") as workdir:
        paths = {name: Path(workdir) / name for name in ("model.onnx", "int8.onnx")}
        paths["model.onnx"].write_bytes(onnx)
        for name, array in (("calibration", calibration), ("measure", measure), ("labels", labels)):
            paths[name] = Path(workdir) / f"{name}.npy"
            np.save(paths[name], array)
        try:
            run = sandbox_run(
                entry=int8_checks.ENTRY,
                args={
                    "onnx": str(paths["model.onnx"]),
                    "int8": str(paths["int8.onnx"]),
                    "calibration": str(paths["calibration"]),
                    "measure": str(paths["measure"]),
                    "labels": str(paths["labels"]),
                    "output": output,
                },
                tick=tick,
            )
        except SandboxFailed as error:
            failed = {"passed": False, "reason": "error", "error": str(error)}
            return Int8Build(None, {**gate, **failed})
        metrics = _checked(run.result.get("metrics"))
        int8_path = paths["int8.onnx"]
        if metrics is None or not int8_path.is_file():
            detail = _("The validation stopped unexpectedly (%(detail)s).") % {
                "detail": "malformed answer"
            }
            return Int8Build(None, {**gate, "passed": False, "reason": "error", "error": detail})
        gate.update(metrics, seconds=run.result.get("seconds"))
        gate.update(_decide(metrics))
        return Int8Build(int8_path.read_bytes(), gate)


def _checked(metrics: object) -> dict | None:
    """The child's numbers, checked like any untrusted answer."""
    keys = {"photos", "agreement", "labelled"}
    optional = {"accuracy_fp32", "accuracy_int8"}
    if not isinstance(metrics, dict) or not keys <= metrics.keys() <= keys | optional:
        return None
    for value in metrics.values():
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value) or value < 0:
            return None
    return metrics


def _decide(metrics: dict) -> dict:
    if metrics["photos"] == 0 or metrics["agreement"] < MIN_AGREEMENT:
        return {"passed": False, "reason": "agreement"}
    drop = metrics.get("accuracy_fp32", 0) - metrics.get("accuracy_int8", 0)
    if drop > MAX_ACCURACY_DROP:
        return {"passed": False, "reason": "accuracy"}
    return {"passed": True, "reason": ""}


def model_version_int8_store(*, version: ModelVersion, build: Int8Build) -> ModelVersion:
    """Saves the gate (and the file when it passed) on ``version``; the
    previous int8 file, if any, is removed once the new state is saved."""
    old = version.int8_file.name if version.int8_file else ""
    version.int8_file = None
    sha256 = ""
    keep = build.data is not None and build.gate.get("passed") is True
    if keep:
        version.int8_file.save("model.int8.onnx", ContentFile(build.data), save=False)
        sha256 = hashlib.sha256(build.data).hexdigest()
    try:
        ModelVersion.objects.filter(pk=version.pk).update(
            int8_file=version.int8_file.name or "", int8_sha256=sha256, int8_gate=build.gate
        )
    except BaseException:
        if keep:
            version.int8_file.delete(save=False)  # no orphan artefact
        raise
    if old and old != version.int8_file.name:
        version.int8_file.storage.delete(old)
    version.int8_sha256, version.int8_gate = sha256, build.gate
    return version


def model_version_int8_build(
    *,
    version: ModelVersion,
    labelled: LabelledPhotos | None = None,
    calibration: np.ndarray | None = None,
    tick: Callable[[], None] | None = None,
) -> ModelVersion:
    """Builds (again) the int8 variant of a ready version and stores its gate.
    A grouping has none of its own: it runs its base's network."""
    if version.source == ModelVersion.Source.GROUPING or not version.onnx_file:
        return version
    with version.onnx_file.open("rb") as handle:
        onnx = handle.read()
    if hashlib.sha256(onnx).hexdigest() != version.onnx_sha256:
        build = Int8Build(
            None,
            {
                "passed": False,
                "reason": "error",
                "error": _("The stored model file does not match its checksum."),
            },
        )
    else:
        build = int8_build(
            onnx=onnx,
            spec=Preprocessing.from_spec(version.preprocessing, size=version.input_size),
            output=version.preprocessing.get("output", "logits"),
            labelled=labelled if labelled is not None else labelled_photos_for(version),
            calibration=calibration,
            tick=tick,
        )
    return model_version_int8_store(version=version, build=build)


def int8_gate_summary(gate: dict) -> str:
    """The gate in a sentence, in the active language."""
    if not gate or gate.get("reason") == "off":
        return _("No int8 variant has been built.")
    if gate.get("reason") == "error":
        return _("No int8 variant: %(error)s") % {"error": gate.get("error", "")}
    where = {
        "evaluation_set": _("the evaluation set “%(name)s”")
        % {"name": gate.get("measured_on_name", "")},
        "validation_photos": _("the training's validation photos"),
    }.get(gate.get("measured_on"), _("held-out calibration photos"))
    numbers = _("top-1 agreement with fp32 %(agreement).1f %% on %(photos)d photos (%(where)s)") % {
        "agreement": 100 * gate.get("agreement", 0),
        "photos": gate.get("photos", 0),
        "where": where,
    }
    if "accuracy_fp32" in gate:
        numbers += "; " + _("accuracy %(fp32).1f %% (fp32), %(int8).1f %% (int8)") % {
            "fp32": 100 * gate["accuracy_fp32"],
            "int8": 100 * gate["accuracy_int8"],
        }
    if gate.get("passed"):
        return _("Passed: %(numbers)s.") % {"numbers": numbers}
    if gate.get("reason") == "accuracy":
        return _("Not passed (int8 loses more than 1 point of accuracy): %(numbers)s.") % {
            "numbers": numbers
        }
    return _("Not passed (agreement under 99 %%): %(numbers)s.") % {"numbers": numbers}
