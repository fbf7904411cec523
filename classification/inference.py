"""The inference engine: the one boundary between Picsort and its models.

Image bytes (or a decoded picture) and a model version in, ranked labels out.
The classify pages and API, batch workers, evaluations, replays, tests and
benchmarks all come through here: nobody else opens sessions, stacks tensors
or looks label names up.

ONNX Runtime sessions are cached per process, keyed by the served file's
SHA-256, so activating another version needs no restart and a file is loaded
once. Which file serves a version is decided in one place, ``session_source``
(an int8 twin or the fp32 file). This module never imports TensorFlow.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from PIL import Image

from core.exceptions import ApplicationError
from core.images import (
    PixelBudget,
    Preprocessing,
    image_to_tensor,  # noqa: F401  (callers of the engine use inference.image_to_tensor)
    open_image,
    to_tensor,
)
from models_registry.int8 import served_file
from models_registry.models import ModelVersion
from models_registry.selectors import grouping_matrix, label_names_for_set


def model_not_ready() -> ApplicationError:
    """The one "not ready" answer (409), wherever a version is refused."""
    return ApplicationError(
        _("This model is not ready to classify yet."), code="model_not_ready", status=409
    )


@dataclass(frozen=True)
class RankedLabel:
    index: int
    key: str
    name: str
    probability: float


@dataclass(frozen=True)
class SessionSource:
    """The ONNX file that serves a version: its checksum (the session cache's
    key, checked when loaded) and the precision it computes in."""

    file: FieldFile
    sha256: str
    precision: str = "fp32"


def session_source(version: ModelVersion) -> SessionSource:
    """Which file serves ``version``: the one place a variant is chosen. An
    int8 twin that passed its gate returns here instead of the fp32 file."""
    served = served_file(version)
    return SessionSource(file=served.file, sha256=served.sha256, precision=served.precision)


def precision(version: ModelVersion) -> str:
    """The precision an answer from ``version`` is computed in."""
    return session_source(version).precision


DISTANCE_OUTPUT = "distance"  # a trained classifier's second output (training/engine.py)


# Requests answered at the same time share one session.run
# ------------------------------------------------------------------------------
MAX_SHARED_IMAGES = 32  # images in one shared run at most


class _Job:
    __slots__ = ("batch", "error", "event", "key", "outputs", "size")

    def __init__(self, batch: np.ndarray) -> None:
        self.batch = batch
        self.key = (batch.shape[1:], batch.dtype)  # only like tensors share a run
        self.size = batch.shape[0] if batch.ndim else 1
        self.event = threading.Event()
        self.outputs: list[np.ndarray] | None = None
        self.error: BaseException | None = None

    def result(self) -> list[np.ndarray]:
        if self.error is not None:
            raise self.error  # this request's own error, raised in its own thread only
        return self.outputs


class SharedRuns:
    """One ``session.run`` at a time per model and process, for every request
    waiting: a web process's threads classify together what arrives while the
    model is busy, as a model server's adaptive batching does, but without a
    timer (an idle model runs a lone request at once). The thread whose request
    is first in line runs the batch and hands over to the next in line.

    Only tensors of the same shape (but for their length) and dtype run
    together, and when a shared run fails each request runs again alone: a bad
    request fails by itself, never its neighbours."""

    def __init__(self, session, input_name: str) -> None:
        self.session, self.input_name = session, input_name
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._busy = False

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        job = _Job(batch)
        with self._lock:
            self._queue.append(job)
            lead, self._busy = not self._busy, True
        if not lead:
            job.event.wait()
            if job.outputs is not None or job.error is not None:
                return job.result()
        # First in line: run everything like it waiting (this job first), then hand over.
        with self._lock:
            jobs = self._take()
        try:
            self._run(jobs)
        except BaseException as error:  # interrupted: the others must not wait forever
            for other in jobs:
                if other is not job and other.outputs is None and other.error is None:
                    other.error = RuntimeError("The shared model run was interrupted.")
                    other.error.__cause__ = error
            raise
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].event.set()  # the next in line leads
                else:
                    self._busy = False
            for other in jobs:
                other.event.set()
        return job.result()

    def _take(self) -> list[_Job]:
        """The first job in line and those like it behind, up to
        ``MAX_SHARED_IMAGES``; the others keep their places. Under the lock."""
        jobs, rest, size = [], [], 0
        for waiting in self._queue:
            if not jobs or (
                waiting.key == jobs[0].key and size + waiting.size <= MAX_SHARED_IMAGES
            ):
                jobs.append(waiting)
                size += waiting.size
            else:
                rest.append(waiting)
        self._queue = rest
        return jobs

    def _run(self, jobs: list[_Job]) -> None:
        if len(jobs) > 1 and self._run_together(jobs):
            return
        for other in jobs:
            try:
                other.outputs = self.session.run(None, {self.input_name: other.batch})
            except Exception as error:
                other.error = error

    def _run_together(self, jobs: list[_Job]) -> bool:
        """One run for all ``jobs``; False when it failed (one of them may be
        bad), and then each is run alone."""
        try:
            batch = np.concatenate([j.batch for j in jobs])
            outputs = self.session.run(None, {self.input_name: batch})
        except Exception:
            return False
        ends = np.cumsum([j.size for j in jobs])[:-1]
        parts = [np.split(output, ends) for output in outputs]
        for number, other in enumerate(jobs):
            other.outputs = [part[number] for part in parts]
        return True


@dataclass(frozen=True)
class _LoadedModel:
    session: object  # onnxruntime.InferenceSession; its run() is thread-safe
    input_name: str
    runs: SharedRuns
    distance_output: int | None = None  # the position of "distance" among the outputs


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
        source = session_source(version)
        if (loaded := self._cached(source.sha256)) is not None:
            return loaded
        with self._load_lock:
            if (loaded := self._cached(source.sha256)) is not None:
                return loaded
            loaded = self._load(source)
            with self._lock:
                self._items[source.sha256] = loaded
                while len(self._items) > self.capacity:
                    self._items.popitem(last=False)
        return loaded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    @staticmethod
    def _load(source: SessionSource) -> _LoadedModel:
        import onnxruntime as ort

        if not source.file:
            raise model_not_ready()
        with source.file.open("rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != source.sha256:
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
        names = [output.name for output in session.get_outputs()]
        return _LoadedModel(
            session=session,
            input_name=session.get_inputs()[0].name,
            runs=SharedRuns(session, session.get_inputs()[0].name),
            distance_output=names.index(DISTANCE_OUTPUT) if DISTANCE_OUTPUT in names else None,
        )


sessions = SessionCache()


# Pictures -> tensors
# ------------------------------------------------------------------------------


def preprocessing_for(version: ModelVersion) -> Preprocessing:
    return Preprocessing.from_spec(version.preprocessing, size=version.input_size)


def decode(
    data: bytes, version: ModelVersion, *, keep_side: int = 0, budget: PixelBudget | None = None
) -> Image.Image:
    """An upload decoded as small as the model allows (JPEG draft decoding,
    reduced at once), or as ``keep_side`` when the picture is kept too."""
    spec = preprocessing_for(version)
    return open_image(data, draft_size=max(spec.resize, keep_side), budget=budget)


def tensor(image: Image.Image, version: ModelVersion) -> np.ndarray:
    """The model's input for one decoded picture: (1, ...) float32."""
    return to_tensor(image, preprocessing_for(version))


# Tensors -> ranked labels
# ------------------------------------------------------------------------------


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits -= logits.max(axis=-1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=-1, keepdims=True)
    return logits


Batch = np.ndarray | Sequence[np.ndarray]


def run_with_distances(version: ModelVersion, batch: Batch) -> tuple[np.ndarray, np.ndarray | None]:
    """Probabilities for a (N, ...) float32 batch, or for a list of (1, ...)
    tensors stacked here: one ``session.run`` for all of them. With them, for
    a trained classifier's model, each photo's distance to its examples (None
    for models without that output)."""
    if version.status != ModelVersion.Status.READY:
        raise model_not_ready()
    if not isinstance(batch, np.ndarray):
        batch = batch[0] if len(batch) == 1 else np.concatenate(batch)
    loaded = sessions.get(version)  # a grouping shares its base's file and session
    outputs = loaded.runs.run(batch)
    probabilities = outputs[0]
    if version.preprocessing.get("output", "logits") == "logits":
        probabilities = _softmax(probabilities)
    if version.label_set.grouping_of_id is not None:
        probabilities = probabilities @ grouping_matrix(label_set=version.label_set)
    distances = None
    if loaded.distance_output is not None and version.label_set.grouping_of_id is None:
        distances = outputs[loaded.distance_output]  # a grouping's groups have no examples
    return probabilities, distances


def run(version: ModelVersion, batch: Batch) -> np.ndarray:
    """``run_with_distances`` without the distances."""
    return run_with_distances(version, batch)[0]


def _labels(version: ModelVersion, language: str | None) -> tuple[tuple[str, str], ...]:
    return label_names_for_set(
        label_set=version.label_set, language=language or get_language() or "en"
    )


def _top(probabilities: np.ndarray, top_k: int, labels) -> list[RankedLabel]:
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


def rank(
    probabilities: np.ndarray,
    version: ModelVersion,
    *,
    top_k: int = 5,
    language: str | None = None,
) -> list[RankedLabel]:
    """The ``top_k`` labels of one row of probabilities, names in ``language``."""
    return _top(probabilities, top_k, _labels(version, language))


def rank_all(
    probabilities: np.ndarray,
    version: ModelVersion,
    *,
    top_k: int = 5,
    language: str | None = None,
) -> list[list[RankedLabel]]:
    """``rank`` for every row, the label names looked up once."""
    labels = _labels(version, language)
    return [_top(row, top_k, labels) for row in probabilities]


def classify_tensor(
    batch: np.ndarray, version: ModelVersion, *, top_k: int = 5, language: str | None = None
) -> list[list[RankedLabel]]:
    return rank_all(run(version, batch), version, top_k=top_k, language=language)


def classify(
    image: bytes, version: ModelVersion, *, top_k: int = 5, language: str | None = None
) -> list[RankedLabel]:
    """The top ``top_k`` labels for one image, names in ``language``."""
    picture = tensor(decode(image, version), version)
    return classify_tensor(picture, version, top_k=top_k, language=language)[0]
