"""The inference engine: image bytes and a model version in, ranked labels out.

ONNX Runtime sessions are cached per process, keyed by the ONNX file's SHA-256,
so activating another version needs no restart and a version is loaded once.
This module never imports TensorFlow.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.images import Preprocessing, image_to_tensor
from models_registry.int8 import ServedFile, served_file, served_precision
from models_registry.models import ModelVersion
from models_registry.selectors import grouping_matrix, label_names_for_set


@dataclass(frozen=True)
class RankedLabel:
    index: int
    key: str
    name: str
    probability: float


@dataclass(frozen=True)
class _LoadedModel:
    session: object  # onnxruntime.InferenceSession; its run() is thread-safe
    input_name: str


class SessionCache:
    """A small LRU of ONNX Runtime sessions shared by the threads of a process."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, _LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()  # one load at a time, never twice

    def _cached(self, key: str) -> _LoadedModel | None:
        with self._lock:
            loaded = self._items.get(key)
            if loaded is not None:
                self._items.move_to_end(key)
            return loaded

    def get(self, version: ModelVersion) -> _LoadedModel:
        served = served_file(version)  # int8 when it passed its gate, else fp32
        key = served.sha256
        if (loaded := self._cached(key)) is not None:
            return loaded
        with self._load_lock:
            if (loaded := self._cached(key)) is not None:
                return loaded
            loaded = self._load(served)
            with self._lock:
                self._items[key] = loaded
                while len(self._items) > self.capacity:
                    self._items.popitem(last=False)
        return loaded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    @staticmethod
    def _load(served: ServedFile) -> _LoadedModel:
        import onnxruntime as ort

        if not served.file:
            raise ApplicationError(
                _("This model is not ready to classify yet."), code="model_not_ready", status=409
            )
        with served.file.open("rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != served.sha256:
            raise ApplicationError(
                _("The stored model file does not match its checksum."),
                code="model_corrupt",
                status=500,
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.INFERENCE_THREADS
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        return _LoadedModel(session=session, input_name=session.get_inputs()[0].name)


sessions = SessionCache()


def precision(version: ModelVersion) -> str:
    """Which file answers for ``version``: "int8" or "fp32"."""
    return served_precision(version)


def preprocessing_for(version: ModelVersion) -> Preprocessing:
    return Preprocessing.from_spec(version.preprocessing, size=version.input_size)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def run(version: ModelVersion, batch: np.ndarray) -> np.ndarray:
    """Raw model output for a (N, H, W, 3) float32 batch, as probabilities."""
    if version.status != ModelVersion.Status.READY:
        raise ApplicationError(
            _("This model is not ready to classify yet."), code="model_not_ready", status=409
        )
    loaded = sessions.get(version)  # a grouping shares its base's file and session
    outputs = loaded.session.run(None, {loaded.input_name: batch})[0]
    if version.preprocessing.get("output", "logits") == "logits":
        outputs = _softmax(outputs)
    if version.label_set.grouping_of_id is not None:
        outputs = outputs @ grouping_matrix(label_set=version.label_set)
    return outputs


def rank(
    probabilities: np.ndarray,
    version: ModelVersion,
    *,
    top_k: int = 5,
    language: str | None = None,
) -> list[RankedLabel]:
    labels = label_names_for_set(
        label_set=version.label_set, language=language or get_language() or "en"
    )
    top_k = max(1, min(top_k, len(probabilities)))
    order = np.argpartition(-probabilities, top_k - 1)[:top_k]
    order = order[np.argsort(-probabilities[order], kind="stable")]
    return [
        RankedLabel(
            index=int(i),
            key=labels[i][0],
            name=labels[i][1],
            probability=float(probabilities[i]),
        )
        for i in order
    ]


def classify_tensor(
    batch: np.ndarray, version: ModelVersion, *, top_k: int = 5, language: str | None = None
) -> list[list[RankedLabel]]:
    probabilities = run(version, batch)
    return [rank(row, version, top_k=top_k, language=language) for row in probabilities]


def classify(
    image: bytes, version: ModelVersion, *, top_k: int = 5, language: str | None = None
) -> list[RankedLabel]:
    """The top ``top_k`` labels for one image, names in ``language``."""
    tensor = image_to_tensor(image, preprocessing_for(version))
    return classify_tensor(tensor, version, top_k=top_k, language=language)[0]
