"""The int8 variant of a trained classifier, gated like any model's
(``models_registry.int8``) but on the run's own validation photos, and
calibrated on its training photos as well as the shipped ones."""

import logging

import numpy as np

from core.images import Preprocessing, image_to_tensor
from models_registry.calibration import CALIBRATION_VIEWS, calibration_views
from models_registry.int8 import Int8Build, LabelledPhotos, int8_build, model_version_int8_store
from models_registry.models import ModelVersion
from training.models import Example, TrainingRun

logger = logging.getLogger(__name__)

CALIBRATION_EXAMPLES = 32


def _tensors(example_ids: list[int], spec: Preprocessing) -> np.ndarray:
    examples = Example.objects.in_bulk(example_ids)
    tensors = []
    for example_id in example_ids:
        with examples[example_id].file.open("rb") as handle:
            tensors.append(image_to_tensor(handle.read(), spec))
    return np.concatenate(tensors) if tensors else np.zeros((0, spec.size, spec.size, 3))


def training_int8_build(
    *, backbone: ModelVersion, onnx: bytes, metrics: dict, train_ids: list[int], tick
) -> Int8Build | None:
    """Quantizes the exported classifier; None when it could not be tried (the
    fp32 classifier is registered all the same)."""
    spec = Preprocessing.from_spec(backbone.preprocessing, size=backbone.input_size)
    try:
        validation = metrics["validation"]
        labelled = LabelledPhotos(
            tensors=_tensors([row["example"] for row in validation], spec),
            labels=np.array([row["true"] for row in validation], dtype=np.int64),
            measured_on="validation_photos",
        )
        own = _tensors(train_ids[:CALIBRATION_EXAMPLES], spec)
        calibration = np.concatenate(
            [calibration_views(spec, count=CALIBRATION_VIEWS), own.astype(np.float32)]
        )
        return int8_build(
            onnx=onnx,
            spec=spec,
            output="probabilities",
            labelled=labelled,
            calibration=calibration,
            tick=tick,
        )
    except Exception:
        logger.exception("training: the int8 variant could not be built")
        return None


def training_int8_store(*, run: TrainingRun, build: Int8Build | None) -> None:
    run.refresh_from_db(fields=["model_version"])
    if build is None or run.model_version is None:
        return
    try:
        model_version_int8_store(version=run.model_version, build=build)
    except Exception:
        logger.exception("training run %s: the int8 variant could not be saved", run.pk)
