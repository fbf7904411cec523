"""The training job itself, in a worker: embed, train the head, measure,
export, register the new version. Progress, heartbeat, cancel and SIGTERM are
checked as it goes."""

import logging

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.jobs import job_claim, job_finish, job_heartbeat, job_release, worker_name
from core.shutdown import stop_requested, watch_for_stop
from models_registry import services as registry
from models_registry.label_files import LabelData
from models_registry.models import ModelVersion
from models_registry.selectors import training_backbone
from training.models import Classifier, Example, TrainingRun
from training.services.int8 import training_int8_build, training_int8_store

logger = logging.getLogger(__name__)


class _Stopping(Exception):
    """SIGTERM: hand the run back to the queue."""


class _Reporter:
    """Progress, heartbeat, cancel and stop checks, at most a few times a second."""

    def __init__(self, run: TrainingRun, worker: str) -> None:
        self.run, self.worker = run, worker

    def __call__(self, phase: str, percent: float) -> None:
        if not job_heartbeat(
            job=self.run, worker=self.worker, phase=phase, percent=max(0, min(99, int(percent)))
        ):
            raise _Stopping()  # the lease went to another worker
        if TrainingRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            from training.engine import Cancelled

            raise Cancelled()
        if stop_requested():
            raise _Stopping()


def training_run(*, run_id: int, worker: str | None = None) -> TrainingRun | None:
    """The worker's job. Idempotent: a finished or leased run is left alone."""
    from training.engine import Cancelled

    worker = worker or worker_name()
    run = TrainingRun.objects.select_related("classifier", "user").filter(pk=run_id).first()
    if run is None:
        return None
    if not job_claim(job=run, worker=worker, extra=Q(cancel_requested=False)):
        TrainingRun.objects.filter(
            pk=run_id, status=TrainingRun.Status.QUEUED, cancel_requested=True
        ).update(status=TrainingRun.Status.CANCELLED, finished_at=timezone.now())
        return None
    with watch_for_stop(), translation.override(run.language):
        try:
            _train(run, _Reporter(run, worker))
        except Cancelled:
            job_finish(job=run, worker=worker, status=TrainingRun.Status.CANCELLED)
        except _Stopping:
            job_release(job=run, worker=worker)
        except ApplicationError as error:
            job_finish(
                job=run, worker=worker, status=TrainingRun.Status.FAILED, error=error.message
            )
        except Exception as error:  # a bug or a resource limit: fail with a reason
            logger.exception("training run %s failed", run.pk)
            job_finish(
                job=run,
                worker=worker,
                status=TrainingRun.Status.FAILED,
                error=_("An unexpected error stopped the training (%(error)s).")
                % {"error": type(error).__name__},
            )
    run.refresh_from_db()
    return run


def _embed(run: TrainingRun, backbone: ModelVersion, report) -> dict[int, object]:
    """Feature vectors per example id, computed once per example and backbone."""
    from training.services.embeddings import examples_embed

    ids = [i for ids in run.snapshot["examples"] for i in ids]
    examples = {e.pk: e for e in Example.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in examples]
    if missing:
        raise ApplicationError(
            _("Some examples were deleted while the training waited; start it again."),
            code="examples_changed",
        )
    return examples_embed(
        examples=examples.values(),
        backbone=backbone,
        on_progress=lambda done, total: report(TrainingRun.Phase.EMBEDDING, 5 + 45 * done / total),
    )


def _train(run: TrainingRun, report) -> None:
    from training import engine

    timer = engine.Timer()
    backbone = training_backbone()
    if backbone is None:
        raise ApplicationError(
            _("No pretrained model is installed to train on; ask an administrator."),
            code="no_backbone",
        )
    report(TrainingRun.Phase.EMBEDDING, 2)
    features = _embed(run, backbone, report)
    timer.lap("embedding")

    names = run.snapshot["names"]
    ids, labels = [], []
    for index, example_ids in enumerate(run.snapshot["examples"]):
        ids += example_ids
        labels += [index] * len(example_ids)
    ids, labels = np.array(ids), np.array(labels)
    train_idx, val_idx = engine.stratified_split(labels, seed=run.classifier_id)
    both = np.stack([features[i] for i in ids])  # (N, 2, width): image, mirror
    x_train = both[train_idx].reshape(-1, both.shape[2])  # mirrored copies augment
    y_train = np.repeat(labels[train_idx], 2)
    x_val, y_val = both[val_idx, 0], labels[val_idx]

    max_epochs = settings.TRAINING_MAX_EPOCHS
    report(TrainingRun.Phase.TRAINING, 50)

    def on_epoch(epoch, logs):
        if epoch % 5 == 0:
            report(TrainingRun.Phase.TRAINING, 50 + 35 * (epoch + 1) / max_epochs)

    head = engine.train_head(
        x_train,
        y_train,
        x_val,
        y_val,
        num_classes=len(names),
        max_epochs=max_epochs,
        seed=run.classifier_id,
        on_epoch=on_epoch,
    )
    timer.lap("training")

    report(TrainingRun.Phase.EVALUATING, 86)
    metrics, trust = _measure(run, head, both, ids, labels, (train_idx, val_idx), timer)

    report(TrainingRun.Phase.EXPORTING, 90)
    centroids = trust["centroids"]
    with backbone.onnx_file.open("rb") as handle:
        onnx_bytes = engine.classifier_onnx(handle.read(), head.kernel, head.bias, centroids)
    with backbone.file.open("rb") as handle:
        keras_bytes = engine.classifier_keras(handle.read(), head.kernel, head.bias)
    checked = [int(ids[i]) for i in val_idx[:2]]
    _check_export(backbone, onnx_bytes, head, centroids, checked, features)
    timer.lap("exporting")
    metrics["seconds"] = timer.seconds
    report(TrainingRun.Phase.EXPORTING, 98)
    int8 = training_int8_build(
        backbone=backbone,
        onnx=onnx_bytes,
        metrics=metrics,
        train_ids=[int(ids[i]) for i in train_idx],
        tick=lambda: report(TrainingRun.Phase.EXPORTING, 98),
    )
    _register(run, backbone, names, keras_bytes, onnx_bytes, metrics)
    training_int8_store(run=run, build=int8)


def _measure(run, head, both, ids, labels, split, timer) -> tuple[dict, dict]:
    """Calibrates the head, then measures it on the validation photos; the
    learning curve and the split's leaks come from the same vectors."""
    from training import checks, engine

    train_idx, val_idx = split
    names = run.snapshot["names"]
    x_val, y_val = both[val_idx, 0], labels[val_idx]
    trust = _calibrate(head, both[train_idx], labels[train_idx], x_val, y_val, len(names))
    timer.lap("calibrating")
    probabilities = engine.predict(x_val, head.kernel, head.bias)
    metrics = engine.evaluate(probabilities, y_val, len(names))
    metrics["validation"] = [
        {
            "example": int(ids[i]),
            "true": int(y),
            "predicted": int(p.argmax()),
            "confidence": round(float(p.max()), 4),
            "distance": round(float(d), 4),
        }
        for i, y, p, d in zip(val_idx, y_val, probabilities, trust["distances"], strict=True)
    ]
    metrics["train_examples"] = len(train_idx)
    metrics["validation_examples"] = len(val_idx)
    metrics["epochs"] = head.epochs
    metrics["temperature"] = trust["calibration"]
    metrics["none_of_these"] = trust["novelty"]
    metrics["leaks"] = checks.split_leaks(both[train_idx, 0], x_val)
    timer.lap("evaluating")
    metrics["learning_curve"] = checks.learning_curve(
        both[train_idx], labels[train_idx], x_val, y_val, seed=run.classifier_id
    )
    timer.lap("learning_curve")
    return metrics, trust


def _calibrate(head, train, train_labels, x_val, y_val, num_classes: int) -> dict:
    """Fits the temperature on the validation photos and folds it into the head
    (the exported model's confidences are the calibrated ones), and the
    distance beyond which a photo is unlike the training examples."""
    from training import calibration

    logits = x_val @ head.kernel + head.bias
    temperature = calibration.fit_temperature(logits, y_val)
    head.kernel, head.bias = head.kernel / temperature, head.bias / temperature
    centroids = calibration.centroids(
        train.reshape(-1, train.shape[2]), np.repeat(train_labels, 2), num_classes
    )
    distances = calibration.distances(x_val, centroids)
    return {
        "calibration": calibration.calibration_report(logits, y_val, temperature),
        "centroids": centroids,
        "distances": distances,
        "novelty": calibration.novelty_report(
            distances, calibration.left_out_distances(train, train_labels, num_classes)
        ),
    }


def _check_export(backbone, onnx_bytes, head, centroids, example_ids, features) -> None:
    """The exported file must answer like the head did on the same images, and
    measure the same distances to the examples."""
    from core.images import Preprocessing, image_to_tensor
    from training import calibration, engine

    spec = Preprocessing.from_spec(backbone.preprocessing, size=backbone.input_size)
    tensors, expected, distances = [], [], []
    for example in Example.objects.filter(pk__in=example_ids):
        with example.file.open("rb") as handle:
            tensors.append(image_to_tensor(handle.read(), spec))
        vector = features[example.pk][0]  # the image itself, not its mirror
        expected.append(engine.predict(vector[None, :], head.kernel, head.bias)[0])
        distances.append(calibration.distances(vector[None, :], centroids)[0])
    difference = engine.max_difference(
        onnx_bytes, np.concatenate(tensors), np.stack(expected), np.array(distances)
    )
    if not difference < 1e-3:
        raise ApplicationError(
            _("The exported model does not match the trained one (difference %(diff).2g).")
            % {"diff": difference},
            code="export_mismatch",
        )


def _register(run, backbone, names, keras_bytes, onnx_bytes, metrics) -> None:
    classifier = run.classifier
    with transaction.atomic():
        current = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if current.status != TrainingRun.Status.RUNNING or current.cancel_requested:
            from training.engine import Cancelled

            raise Cancelled()
        label_set = registry.label_set_create(
            name=f"{classifier.name} #{run.number}",
            labels=[LabelData(key=f"class-{i}", name=n) for i, n in enumerate(names)],
            user=run.user,
            owner=run.user,
        )
        previous = (
            ModelVersion.objects.filter(pk=classifier.active_version_id)
            .values_list("confidence_threshold", flat=True)
            .first()
        )
        version = registry.model_version_create_ready(
            name=classifier.name,
            version=run.number,
            label_set=label_set,
            keras=keras_bytes,
            onnx=onnx_bytes,
            source=ModelVersion.Source.TRAINING,
            input_size=backbone.input_size,
            preprocessing={**backbone.preprocessing, "output": "probabilities"},
            base_version=backbone,
            owner=run.user,
            metrics={"accuracy": metrics["accuracy"], "epochs": metrics["epochs"]},
            confidence_threshold=previous,  # the owner's setting carries over
            distance_threshold=metrics["none_of_these"]["threshold"],
        )
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingRun.Status.SUCCEEDED,
            phase=TrainingRun.Phase.DONE,
            percent=100,
            metrics=metrics,
            model_version=version,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        Classifier.objects.filter(pk=classifier.pk).update(active_version=version)
