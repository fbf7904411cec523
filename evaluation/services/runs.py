"""Evaluations: a model version measured on an evaluation set by a worker, and
two evaluations on the same set compared side by side."""

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from classification import inference
from core.exceptions import ApplicationError
from core.images import open_image, to_tensor
from core.jobs import job_claim, job_finish, job_heartbeat, worker_name
from core.scores import classification_scores
from core.shutdown import stop_requested, watch_for_stop
from evaluation.models import Evaluation, EvaluationSet
from evaluation.services.sets import class_reference
from models_registry.models import ModelVersion

CHUNK = 16  # photos per ONNX Runtime call
DENSE_UP_TO = 100  # classes: a full confusion matrix below, its cells above


def right_answers(version: ModelVersion) -> dict[str, int]:
    """For each class key a set may use, the output of ``version`` that counts
    as right: its own classes, and for a grouping every member of a group (the
    catch-all group takes the base classes no other group lists)."""
    label_set = version.label_set
    labels = list(label_set.labels.order_by("index").prefetch_related("members"))
    answers = {class_reference(label_set, label): label.index for label in labels}
    if label_set.grouping_of_id is None:
        return answers
    catch_all = None
    for label in labels:
        catch_all = label.index if label.catch_all else catch_all
        for member in label.members.all():
            answers.setdefault(member.key, label.index)
    if catch_all is not None:
        for key in label_set.grouping_of.labels.values_list("key", flat=True):
            answers.setdefault(key, catch_all)
    return answers


def _visible(version: ModelVersion, evaluation_set: EvaluationSet, user: User) -> bool:
    if evaluation_set.owner_id is None and version.owner_id is None:
        return user.is_staff
    owner = evaluation_set.owner_id or version.owner_id
    return owner == user.pk and version.owner_id in (None, user.pk)


def evaluation_start(
    *, version: ModelVersion, evaluation_set: EvaluationSet, user: User
) -> Evaluation:
    """Queues ``version``'s evaluation on the set. Staff measure shared models
    on staff sets; a user measures their own classifiers on their own sets."""
    if not _visible(version, evaluation_set, user):
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    if version.status != ModelVersion.Status.READY:
        raise ApplicationError(
            _("Only a ready model version can be evaluated."), code="version_not_ready", status=409
        )
    if not evaluation_set.is_ready:
        raise ApplicationError(
            _("The evaluation set is still being imported; try again when it is ready."),
            code="set_not_ready",
            status=409,
        )
    keys = set(evaluation_set.photos.values_list("label_key", flat=True).distinct())
    if not keys & set(right_answers(version)):
        raise ApplicationError(
            _("None of the set's classes is a class of this model."), code="no_common_classes"
        )
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            version=version, evaluation_set=evaluation_set, requested_by=user
        )
    transaction.on_commit(evaluation.enqueue, robust=True)
    return evaluation


def _answers(version: ModelVersion, photos: list, evaluation: Evaluation, worker: str):
    """Probabilities for every photo, CHUNK at a time, renewing the lease."""
    spec = inference.preprocessing_for(version)
    rows = []
    for start in range(0, len(photos), CHUNK):
        chunk = photos[start : start + CHUNK]
        tensors = []
        for photo in chunk:
            with photo.file.open("rb") as handle:
                tensors.append(to_tensor(open_image(handle.read(), draft_size=spec.resize), spec))
        rows.append(inference.run(version, np.concatenate(tensors)))
        percent = int(99 * (start + len(chunk)) / len(photos))
        if stop_requested() or not job_heartbeat(job=evaluation, worker=worker, percent=percent):
            return None
    return np.concatenate(rows) if rows else np.zeros((0, 1))


def evaluation_run(*, evaluation_id: int, worker: str | None = None) -> Evaluation | None:
    """The worker's job: every photo of the set through the version, then the
    report (``core.scores``) with each photo's answer, for click-through."""
    worker = worker or worker_name()
    evaluation = Evaluation.objects.select_related("version__label_set").filter(pk=evaluation_id)
    evaluation = evaluation.first()
    if evaluation is None or not job_claim(job=evaluation, worker=worker):
        return None
    version = evaluation.version
    answers = right_answers(version)
    photos = list(evaluation.evaluation_set.photos.order_by("id"))
    known = [photo for photo in photos if photo.label_key in answers]
    with watch_for_stop():
        try:
            probabilities = _answers(version, known, evaluation, worker)
        except ApplicationError as error:
            job_finish(
                job=evaluation, worker=worker, status=Evaluation.Status.FAILED, error=error.message
            )
            return evaluation
    if probabilities is None:
        from core.jobs import job_release

        job_release(job=evaluation, worker=worker)  # stopped, or lost its lease
        return evaluation
    truth = np.array([answers[photo.label_key] for photo in known], dtype=int)
    num_classes = probabilities.shape[1] if len(known) else version.label_set.labels.count()
    report = classification_scores(
        probabilities, truth, num_classes, dense=num_classes <= DENSE_UP_TO
    )
    top5 = np.argsort(-probabilities, axis=1)[:, :5] if len(known) else np.zeros((0, 5))
    report["answers"] = [
        [photo.pk, int(t), int(row.argmax()), round(float(row.max()), 4), bool(t in best)]
        for photo, t, row, best in zip(known, truth, probabilities, top5, strict=True)
    ]
    report["skipped"] = len(photos) - len(known)
    job_finish(
        job=evaluation,
        worker=worker,
        status=Evaluation.Status.SUCCEEDED,
        report=report,
        percent=100,
    )
    evaluation.refresh_from_db()
    return evaluation


def evaluation_compare(*, before: Evaluation, after: Evaluation) -> dict:
    """Two evaluations of the same set side by side: the numbers, the classes
    that got better or worse (F1), and the photos whose answer changed."""
    if before.evaluation_set_id != after.evaluation_set_id:
        raise ApplicationError(
            _("Compare two evaluations of the same evaluation set."), code="different_sets"
        )
    if not (before.status == after.status == Evaluation.Status.SUCCEEDED):
        raise ApplicationError(
            _("Both evaluations must have finished."), code="not_finished", status=409
        )
    a, b = before.report, after.report
    numbers = {
        key: {"before": a.get(key), "after": b.get(key)}
        for key in ("accuracy", "top5_accuracy", "photos", "skipped")
    }
    numbers["ece"] = {"before": a["calibration"]["ece"], "after": b["calibration"]["ece"]}
    answers_a = {row[0]: row for row in a["answers"]}
    names_a = _keys(before.version)
    names_b = _keys(after.version)
    classes = []
    rows_a, rows_b = _per_class(a, names_a), _per_class(b, names_b)
    for key in sorted(set(rows_a) | set(rows_b)):
        f1_a = rows_a.get(key, {}).get("f1")
        f1_b = rows_b.get(key, {}).get("f1")
        if f1_a is not None and f1_b is not None and f1_a != f1_b:
            classes.append({"class": key, "before": f1_a, "after": f1_b})
    classes.sort(key=lambda row: row["after"] - row["before"])
    changed = []
    for row in b["answers"]:
        old = answers_a.get(row[0])
        if old is None or names_a[old[2]] == names_b[row[2]]:
            continue
        changed.append(
            {
                "photo": row[0],
                "true": names_b[row[1]],
                "before": names_a[old[2]],
                "after": names_b[row[2]],
                "fixed": row[2] == row[1],
                "broken": old[2] == old[1],
            }
        )
    return {"numbers": numbers, "classes": classes, "changed": changed}


def _keys(version: ModelVersion) -> list[str]:
    labels = version.label_set.labels.order_by("index")
    return [class_reference(version.label_set, label) for label in labels]


def _per_class(report: dict, keys: list[str]) -> dict:
    """Per-class rows by class key (two versions may order their classes
    differently), whether stored densely or sparsely."""
    rows = report.get("per_class", [])
    pairs = rows.items() if isinstance(rows, dict) else enumerate(rows)
    return {keys[int(index)]: row for index, row in pairs if row["support"]}
