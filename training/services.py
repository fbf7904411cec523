"""Writes for custom classifiers: classes, examples, training runs."""

import hashlib
import logging
import os
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.images import encode_jpeg
from core.jobs import enqueue_later, retry_delay
from core.shutdown import stop_requested, watch_for_stop
from core.storage import storage_errors
from core.uploads import clean_name, open_upload, uploads_from_zip
from models_registry import services as registry
from models_registry.label_files import LabelData
from models_registry.models import ModelVersion
from models_registry.selectors import training_backbone
from training.models import Classifier, ClassifierClass, Example, TrainingRun

logger = logging.getLogger(__name__)

MAX_NAME = 80
MAX_CLASS_NAME = 100


# Classifiers and classes
# ------------------------------------------------------------------------------


def _clean_class_names(names: list[str]) -> list[str]:
    cleaned, seen = [], set()
    for raw in names:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if len(name) > MAX_CLASS_NAME:
            raise ApplicationError(
                _("A class name can be at most %(max)d characters.") % {"max": MAX_CLASS_NAME},
                code="class_name_too_long",
            )
        if name.casefold() in seen:
            raise ApplicationError(
                _("The class “%(name)s” is listed twice.") % {"name": name},
                code="duplicate_class",
            )
        seen.add(name.casefold())
        cleaned.append(name)
    return cleaned


def _check_class_count(count: int) -> None:
    if count < settings.TRAINING_MIN_CLASSES:
        raise ApplicationError(
            _("A classifier needs at least %(min)d classes.")
            % {"min": settings.TRAINING_MIN_CLASSES},
            code="too_few_classes",
        )
    if count > settings.TRAINING_MAX_CLASSES:
        raise ApplicationError(
            _("A classifier can have at most %(max)d classes.")
            % {"max": settings.TRAINING_MAX_CLASSES},
            code="too_many_classes",
        )


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise ApplicationError(_("Give the classifier a name."), code="name_required")
    if len(name) > MAX_NAME:
        raise ApplicationError(
            _("The name can be at most %(max)d characters.") % {"max": MAX_NAME},
            code="name_too_long",
        )
    return name


@transaction.atomic
def classifier_create(*, user: User, name: str, class_names: list[str]) -> Classifier:
    name = _clean_name(name)
    names = _clean_class_names(class_names)
    _check_class_count(len(names))
    if user.classifiers.count() >= settings.TRAINING_MAX_CLASSIFIERS_PER_USER:
        raise ApplicationError(
            _("You can have at most %(max)d classifiers; delete one first.")
            % {"max": settings.TRAINING_MAX_CLASSIFIERS_PER_USER},
            code="too_many_classifiers",
            status=409,
        )
    if user.classifiers.filter(name=name).exists():
        raise ApplicationError(
            _("You already have a classifier called “%(name)s”.") % {"name": name},
            code="duplicate_name",
            status=409,
        )
    classifier = Classifier.objects.create(owner=user, name=name)
    ClassifierClass.objects.bulk_create(
        ClassifierClass(classifier=classifier, name=class_name) for class_name in names
    )
    return classifier


@transaction.atomic
def classifier_rename(*, classifier: Classifier, name: str) -> Classifier:
    name = _clean_name(name)
    if classifier.owner.classifiers.filter(name=name).exclude(pk=classifier.pk).exists():
        raise ApplicationError(
            _("You already have a classifier called “%(name)s”.") % {"name": name},
            code="duplicate_name",
            status=409,
        )
    classifier.name = name
    classifier.save(update_fields=["name", "updated_at"])
    return classifier


@transaction.atomic
def class_add(*, classifier: Classifier, name: str) -> ClassifierClass:
    names = _clean_class_names([name])
    if not names:
        raise ApplicationError(_("Give the class a name."), code="name_required")
    if classifier.classes.count() + 1 > settings.TRAINING_MAX_CLASSES:
        _check_class_count(classifier.classes.count() + 1)
    if classifier.classes.filter(name__iexact=names[0]).exists():
        raise ApplicationError(
            _("The class “%(name)s” is listed twice.") % {"name": names[0]},
            code="duplicate_class",
            status=409,
        )
    return ClassifierClass.objects.create(classifier=classifier, name=names[0])


def class_delete(*, classifier: Classifier, class_id: int) -> None:
    cls = classifier.classes.filter(pk=class_id).first()
    if cls is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    if _active_run(classifier) is not None:
        raise ApplicationError(
            _("Wait for the training to finish before changing the classes."),
            code="training_running",
            status=409,
        )
    with transaction.atomic():
        cls.delete()  # the examples' files go with them (signal, after commit)


def classifier_delete(*, classifier: Classifier) -> None:
    """The classifier, its examples, every version it trained (files too) and
    the classifications made with them."""
    with transaction.atomic():
        versions = list(ModelVersion.objects.filter(training_run__classifier=classifier))
        classifier.delete()
        for version in versions:
            registry.owned_model_version_delete(version=version)


# Examples
# ------------------------------------------------------------------------------


def _class_by_name(classifier: Classifier, name: str) -> ClassifierClass:
    wanted = " ".join(str(name).split()).casefold()
    for cls in classifier.classes.all():
        if cls.name.casefold() == wanted:
            return cls
    raise ApplicationError(
        _("The classifier has no class called “%(name)s”.") % {"name": name},
        code="unknown_class",
    )


@storage_errors()
def examples_add(*, classifier: Classifier, uploads_by_class: dict[str, list]) -> dict[str, int]:
    """Adds examples: ``{class name: [Upload, ...]}``. Every image is decoded and
    checked first; one bad file rejects the whole request and nothing is kept.
    The same picture twice in a class is kept once. Returns added counts."""
    if not any(uploads_by_class.values()):
        raise ApplicationError(_("Choose at least one image."), code="no_images")
    prepared: list[tuple[ClassifierClass, object, bytes, str]] = []
    counts = dict(classifier.classes.annotate(n=Count("examples")).values_list("pk", "n"))
    for class_name, uploads in uploads_by_class.items():
        cls = _class_by_name(classifier, class_name)
        for upload in uploads:
            image = open_upload(upload, draft_size=settings.EXAMPLE_MAX_SIDE)
            data = encode_jpeg(image, settings.EXAMPLE_MAX_SIDE)
            prepared.append((cls, upload, data, hashlib.sha256(upload.data).hexdigest()))
            counts[cls.pk] = counts.get(cls.pk, 0) + 1
            if counts[cls.pk] > settings.TRAINING_MAX_EXAMPLES_PER_CLASS:
                raise ApplicationError(
                    _("A class can have at most %(max)d examples (“%(name)s” would have more).")
                    % {"max": settings.TRAINING_MAX_EXAMPLES_PER_CLASS, "name": cls.name},
                    code="too_many_examples",
                )

    added: dict[str, int] = defaultdict(int)
    stored: list = []
    try:
        with transaction.atomic():
            existing = set(
                Example.objects.filter(classifier_class__classifier=classifier).values_list(
                    "classifier_class_id", "sha256"
                )
            )
            for cls, upload, data, digest in prepared:
                if (cls.pk, digest) in existing:
                    continue
                existing.add((cls.pk, digest))
                example = Example(
                    classifier_class=cls, original_name=clean_name(upload.name), sha256=digest
                )
                example.file.save("example.jpg", ContentFile(data), save=False)
                stored.append(example.file)
                example.save()
                added[cls.name] += 1
            Classifier.objects.filter(pk=classifier.pk).update(updated_at=timezone.now())
    except Exception:
        for file in stored:
            file.delete(save=False)
        raise
    return dict(added)


def examples_from_zip(*, classifier: Classifier, data: bytes) -> dict[str, list]:
    """A zip with one folder per class (``cat/1.jpg``, ``dog/2.png``...). Folders
    that match no class are an error, so a typo never goes unnoticed."""
    by_class: dict[str, list] = defaultdict(list)
    names = {cls.name.casefold(): cls.name for cls in classifier.classes.all()}
    max_files = settings.TRAINING_MAX_CLASSES * settings.TRAINING_MAX_EXAMPLES_PER_CLASS
    for upload in uploads_from_zip(data, max_files=max_files):
        folder = upload.folder
        if not folder:
            raise ApplicationError(
                _("“%(name)s” is not inside a folder; put each class in its own folder.")
                % {"name": upload.name},
                code="zip_needs_folders",
            )
        name = names.get(" ".join(folder.split()).casefold())
        if name is None:
            raise ApplicationError(
                _("The folder “%(folder)s” matches no class of this classifier.")
                % {"folder": folder},
                code="unknown_class",
            )
        by_class[name].append(upload)
    return dict(by_class)


def example_delete(*, classifier: Classifier, example_id: int) -> None:
    example = Example.objects.filter(classifier_class__classifier=classifier, pk=example_id).first()
    if example is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    example.delete()


# Training runs
# ------------------------------------------------------------------------------


def _active_run(classifier: Classifier) -> TrainingRun | None:
    return classifier.runs.filter(status__in=TrainingRun.ACTIVE).first()


def training_start(*, classifier: Classifier, user: User) -> tuple[TrainingRun, bool]:
    """Queues a training run; returns ``(run, created)``. Asking again while one
    runs returns that run: training twice at once on one classifier is one job."""
    if (run := _active_run(classifier)) is not None:
        return run, False
    classes = list(classifier.classes.annotate(n=Count("examples")).order_by("id"))
    _check_class_count(len(classes))
    short = [cls.name for cls in classes if cls.n < settings.TRAINING_MIN_EXAMPLES_PER_CLASS]
    if short:
        raise ApplicationError(
            _("Every class needs at least %(min)d examples; add more to: %(classes)s.")
            % {"min": settings.TRAINING_MIN_EXAMPLES_PER_CLASS, "classes": ", ".join(short)},
            code="too_few_examples",
        )
    if training_backbone() is None:
        raise ApplicationError(
            _("No pretrained model is installed to train on; ask an administrator."),
            code="no_backbone",
            status=503,
        )
    running = TrainingRun.objects.filter(user=user, status__in=TrainingRun.ACTIVE).count()
    if running >= settings.TRAINING_MAX_CONCURRENT_PER_USER:
        raise ApplicationError(
            _("You already have %(count)d training job(s) running; wait for one to finish.")
            % {"count": running},
            code="too_many_training_jobs",
            status=429,
        )
    examples = defaultdict(list)
    for cls_id, example_id in Example.objects.filter(
        classifier_class__classifier=classifier
    ).values_list("classifier_class_id", "pk"):
        examples[cls_id].append(example_id)
    snapshot = {
        "names": [cls.name for cls in classes],
        "examples": [sorted(examples[cls.pk]) for cls in classes],
    }
    try:
        with transaction.atomic():
            number = (classifier.runs.aggregate(n=Max("number"))["n"] or 0) + 1
            run = TrainingRun.objects.create(
                classifier=classifier,
                user=user,
                number=number,
                snapshot=snapshot,
                language=translation.get_language() or "en",
            )
            transaction.on_commit(lambda: training_enqueue(run=run))
    except IntegrityError:
        # Another request started one at the same moment: that one is the job.
        if (run := _active_run(classifier)) is not None:
            return run, False
        raise
    return run, True


def training_enqueue(*, run: TrainingRun, delay: float = 0) -> None:
    from training.tasks import training_run_task

    enqueue_later(training_run_task, run.pk, delay=delay)


def training_cancel(*, run: TrainingRun) -> TrainingRun:
    """A queued run stops at once; a running one at its next check (seconds)."""
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.CANCELLED, cancel_requested=True, finished_at=now
    )
    TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.RUNNING).update(
        cancel_requested=True
    )
    run.refresh_from_db()
    return run


def classifier_use_version(*, classifier: Classifier, version_id: int) -> Classifier:
    run = classifier.runs.filter(
        model_version_id=version_id, status=TrainingRun.Status.SUCCEEDED
    ).first()
    if run is None:
        raise ApplicationError(
            _("This classifier has no such version."), code="unknown_version", status=404
        )
    classifier.active_version_id = version_id
    classifier.save(update_fields=["active_version", "updated_at"])
    return classifier


def classifier_set_threshold(*, classifier: Classifier, threshold: float | None) -> None:
    """Below ``threshold`` the answer is "none of these" (None: always answer)."""
    if threshold is not None and not 0.0 <= threshold < 1.0:
        raise ApplicationError(_("The threshold must be between 0 and 1."), code="bad_threshold")
    if classifier.active_version_id is None:
        raise ApplicationError(_("Train the classifier first."), code="not_trained", status=409)
    ModelVersion.objects.filter(pk=classifier.active_version_id).update(
        confidence_threshold=threshold or None
    )


# The job itself (worker side)
# ------------------------------------------------------------------------------


def _worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def _lease() -> timedelta:
    return timedelta(seconds=settings.TRAINING_LEASE_SECONDS)


def training_claim(*, run_id: int, worker: str) -> bool:
    now = timezone.now()
    return (
        TrainingRun.objects.filter(
            Q(status=TrainingRun.Status.QUEUED)
            | Q(status=TrainingRun.Status.RUNNING, lease_expires_at__lt=now),
            pk=run_id,
            cancel_requested=False,
        ).update(
            status=TrainingRun.Status.RUNNING,
            worker=worker,
            lease_expires_at=now + _lease(),
            attempts=F("attempts") + 1,
            started_at=now,
        )
        == 1
    )


class _Stopping(Exception):
    """SIGTERM: hand the run back to the queue."""


class _Reporter:
    """Progress, heartbeat, cancel and stop checks, at most a few times a second."""

    def __init__(self, run: TrainingRun, worker: str) -> None:
        self.run, self.worker = run, worker

    def __call__(self, phase: str, percent: float) -> None:
        updated = TrainingRun.objects.filter(
            pk=self.run.pk, worker=self.worker, status=TrainingRun.Status.RUNNING
        ).update(
            phase=phase,
            percent=max(0, min(99, int(percent))),
            lease_expires_at=timezone.now() + _lease(),
        )
        if not updated:
            raise _Stopping()  # the lease went to another worker
        if TrainingRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            from training.engine import Cancelled

            raise Cancelled()
        if stop_requested():
            raise _Stopping()


def _finish(run: TrainingRun, worker: str, **fields) -> None:
    TrainingRun.objects.filter(pk=run.pk, worker=worker).update(
        finished_at=timezone.now(), lease_expires_at=None, **fields
    )


def training_run(*, run_id: int, worker: str | None = None) -> TrainingRun | None:
    """The worker's job. Idempotent: a finished or leased run is left alone."""
    from training.engine import Cancelled

    worker = worker or _worker_name()
    if not training_claim(run_id=run_id, worker=worker):
        TrainingRun.objects.filter(
            pk=run_id, status=TrainingRun.Status.QUEUED, cancel_requested=True
        ).update(status=TrainingRun.Status.CANCELLED, finished_at=timezone.now())
        return None
    run = TrainingRun.objects.select_related("classifier", "user").get(pk=run_id)
    with watch_for_stop(), translation.override(run.language):
        try:
            _train(run, _Reporter(run, worker))
        except Cancelled:
            _finish(run, worker, status=TrainingRun.Status.CANCELLED, phase=run.phase)
        except _Stopping:
            with transaction.atomic():
                released = TrainingRun.objects.filter(pk=run.pk, worker=worker).update(
                    status=TrainingRun.Status.QUEUED, worker="", lease_expires_at=None
                )
                if released:
                    transaction.on_commit(lambda: training_enqueue(run=run))
        except ApplicationError as error:
            _finish(run, worker, status=TrainingRun.Status.FAILED, error=error.message)
        except Exception as error:  # a bug or a resource limit: fail with a reason
            logger.exception("training run %s failed", run.pk)
            _finish(
                run,
                worker,
                status=TrainingRun.Status.FAILED,
                error=_("An unexpected error stopped the training (%(error)s).")
                % {"error": type(error).__name__},
            )
    run.refresh_from_db()
    return run


def _embed(run: TrainingRun, backbone: ModelVersion, report) -> dict[int, object]:
    """Feature vectors per example id, computed once per example and backbone."""
    import numpy as np

    from core.images import Preprocessing, image_to_tensor
    from training import engine

    ids = [i for ids in run.snapshot["examples"] for i in ids]
    examples = {e.pk: e for e in Example.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in examples]
    if missing:
        raise ApplicationError(
            _("Some examples were deleted while the training waited; start it again."),
            code="examples_changed",
        )
    features = {}
    todo = []
    for example in examples.values():
        if example.embedding and example.embedding_backbone == backbone.onnx_sha256:
            features[example.pk] = engine.from_bytes(example.embedding)
        else:
            todo.append(example)
    if todo:
        with backbone.onnx_file.open("rb") as handle:
            embedder = engine.Embedder(handle.read())
        spec = Preprocessing.from_spec(backbone.preprocessing, size=backbone.input_size)
        batch_size = 16
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            tensors = []
            for example in chunk:
                with example.file.open("rb") as handle:
                    tensors.append(image_to_tensor(handle.read(), spec))
            vectors = embedder(np.concatenate(tensors))
            for example, vector in zip(chunk, vectors, strict=True):
                features[example.pk] = vector
                Example.objects.filter(pk=example.pk).update(
                    embedding=engine.to_bytes(vector), embedding_backbone=backbone.onnx_sha256
                )
            report(TrainingRun.Phase.EMBEDDING, 5 + 45 * (start + len(chunk)) / len(todo))
    return features


def _train(run: TrainingRun, report) -> None:
    import numpy as np

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
    probabilities = engine.predict(x_val, head.kernel, head.bias)
    metrics = engine.evaluate(probabilities, y_val, len(names))
    metrics["validation"] = [
        {
            "example": int(ids[i]),
            "true": int(y),
            "predicted": int(p.argmax()),
            "confidence": round(float(p.max()), 4),
        }
        for i, y, p in zip(val_idx, y_val, probabilities, strict=True)
    ]
    metrics["train_examples"] = len(train_idx)
    metrics["validation_examples"] = len(val_idx)
    metrics["epochs"] = head.epochs
    timer.lap("evaluating")

    report(TrainingRun.Phase.EXPORTING, 90)
    with backbone.onnx_file.open("rb") as handle:
        onnx_bytes = engine.classifier_onnx(handle.read(), head.kernel, head.bias)
    with backbone.file.open("rb") as handle:
        keras_bytes = engine.classifier_keras(handle.read(), head.kernel, head.bias)
    _check_export(run, backbone, onnx_bytes, head, val_idx, ids)
    timer.lap("exporting")
    metrics["seconds"] = timer.seconds
    report(TrainingRun.Phase.EXPORTING, 98)
    _register(run, backbone, names, keras_bytes, onnx_bytes, metrics)


def _check_export(run, backbone, onnx_bytes, head, val_idx, ids) -> None:
    """The exported file must answer like the head did on the same images."""
    import numpy as np

    from core.images import Preprocessing, image_to_tensor
    from training import engine

    spec = Preprocessing.from_spec(backbone.preprocessing, size=backbone.input_size)
    probe = Example.objects.filter(pk__in=[int(ids[i]) for i in val_idx[:2]])
    tensors, expected = [], []
    for example in probe:
        with example.file.open("rb") as handle:
            tensors.append(image_to_tensor(handle.read(), spec))
        vector = engine.from_bytes(
            Example.objects.values_list("embedding", flat=True).get(pk=example.pk)
        )[0]
        expected.append(engine.predict(vector[None, :], head.kernel, head.bias)[0])
    difference = engine.max_difference(onnx_bytes, np.concatenate(tensors), np.stack(expected))
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
        )
        if previous is not None:
            ModelVersion.objects.filter(pk=version.pk).update(confidence_threshold=previous)
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


def training_runs_sweep() -> dict[str, int]:
    """Runs whose worker vanished go back to the queue, or fail with a reason
    once out of attempts: a run is never left "running" forever."""
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0}
    for run in TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, lease_expires_at__lt=now
    ):
        with transaction.atomic():
            stale = TrainingRun.objects.filter(pk=run.pk, lease_expires_at__lt=now)
            if run.attempts >= settings.TRAINING_MAX_ATTEMPTS or run.cancel_requested:
                counts["failed"] += stale.update(
                    status=TrainingRun.Status.CANCELLED
                    if run.cancel_requested
                    else TrainingRun.Status.FAILED,
                    finished_at=now,
                    lease_expires_at=None,
                    error=""
                    if run.cancel_requested
                    else _("The worker stopped %(count)d times during this training.")
                    % {"count": run.attempts},
                )
                continue
            if stale.update(status=TrainingRun.Status.QUEUED, lease_expires_at=None, worker=""):
                delay = retry_delay(run.attempts)
                transaction.on_commit(
                    lambda run=run, delay=delay: training_enqueue(run=run, delay=delay)
                )
                counts["requeued"] += 1
    return counts
