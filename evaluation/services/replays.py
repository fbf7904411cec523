"""Replay before activation: the recent classifications made through an alias
(photos their owners kept, owners who did not opt out) run through a
candidate version in a worker; the administrator sees how many answers would
change and which (answers only: staff never see the photos), then approves
(the alias moves, recording the report) or cancels."""

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from classification import inference
from classification.models import Prediction
from core.exceptions import ApplicationError
from core.images import open_image, to_tensor
from core.jobs import job_claim, job_finish, job_heartbeat, job_release, worker_name
from core.shutdown import stop_requested, watch_for_stop
from evaluation.models import Replay
from models_registry import services as registry
from models_registry.models import ModelAlias, ModelVersion
from models_registry.selectors import model_version_for_alias

CHUNK = 16
CHANGES_LISTED = 500


def replayable(*, alias: str):
    """The classifications a replay may use, newest first."""
    return (
        Prediction.objects.filter(
            alias=alias, image__isnull=False, user__share_for_model_tests=True
        )
        .select_related("image")
        .order_by("-created_at", "-id")
    )


def replay_start(
    *, candidate: ModelVersion, user: User, alias: str = registry.DEFAULT_ALIAS, limit: int = 0
) -> Replay:
    if not user.is_staff:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    current = model_version_for_alias(alias=alias)
    if current is None:
        raise ApplicationError(
            _("There is no alias called “%(alias)s”.") % {"alias": alias}, code="unknown_alias"
        )
    if candidate.status != ModelVersion.Status.READY or candidate.owner_id is not None:
        raise ApplicationError(
            _("Only a ready shared model version can replace what an alias answers."),
            code="version_not_ready",
            status=409,
        )
    limit = min(limit or settings.REPLAY_DEFAULT_ANSWERS, settings.REPLAY_MAX_ANSWERS)
    with transaction.atomic():
        replay = Replay.objects.create(
            alias=alias, current=current, candidate=candidate, limit=limit, requested_by=user
        )
    transaction.on_commit(replay.enqueue, robust=True)
    return replay


def _changes(replay: Replay, predictions: list, worker: str) -> list | None:
    candidate = replay.candidate
    spec = inference.preprocessing_for(candidate)
    keys = list(candidate.label_set.labels.order_by("index").values_list("key", flat=True))
    changes = []
    for start in range(0, len(predictions), CHUNK):
        chunk = predictions[start : start + CHUNK]
        tensors = []
        for prediction in chunk:
            with prediction.image.file.open("rb") as handle:
                tensors.append(to_tensor(open_image(handle.read(), draft_size=spec.resize), spec))
        for prediction, row in zip(
            chunk, inference.run(candidate, np.concatenate(tensors)), strict=True
        ):
            after = keys[int(row.argmax())]
            if after != prediction.top_key:
                changes.append(
                    {
                        "prediction": prediction.pk,
                        "before": prediction.top_key,
                        "after": after,
                        "before_probability": round(prediction.top_probability, 4),
                        "after_probability": round(float(row.max()), 4),
                    }
                )
        percent = int(99 * (start + len(chunk)) / len(predictions))
        if stop_requested() or not job_heartbeat(job=replay, worker=worker, percent=percent):
            return None
    return changes


def replay_run(*, replay_id: int, worker: str | None = None) -> Replay | None:
    worker = worker or worker_name()
    replay = Replay.objects.select_related("candidate__label_set").filter(pk=replay_id).first()
    if replay is None or not job_claim(job=replay, worker=worker):
        return None
    predictions = list(replayable(alias=replay.alias)[: replay.limit])
    with watch_for_stop():
        try:
            changes = _changes(replay, predictions, worker) if predictions else []
        except ApplicationError as error:
            job_finish(job=replay, worker=worker, status=Replay.Status.FAILED, error=error.message)
            return replay
    if changes is None:
        job_release(job=replay, worker=worker)
        return replay
    report = {
        "replayed": len(predictions),
        "changed": len(changes),
        "changes": changes[:CHANGES_LISTED],
        "transitions": _transitions(changes),
    }
    job_finish(
        job=replay, worker=worker, status=Replay.Status.SUCCEEDED, report=report, percent=100
    )
    replay.refresh_from_db()
    return replay


def _transitions(changes: list) -> list:
    """Which answers become which, most frequent first: [[before, after, count]]."""
    counts: dict = {}
    for change in changes:
        pair = (change["before"], change["after"])
        counts[pair] = counts.get(pair, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: -item[1])
    return [[before, after, count] for (before, after), count in ordered[:100]]


@transaction.atomic
def replay_decide(*, replay: Replay, user: User, approve: bool) -> Replay:
    """Approve: the alias moves to the candidate, recording this report (and
    the candidate's latest evaluation). Cancel: nothing moves."""
    replay = Replay.objects.select_for_update().get(pk=replay.pk)
    if replay.decision != Replay.Decision.PENDING:
        raise ApplicationError(
            _("This replay was decided already."), code="already_decided", status=409
        )
    if approve:
        if replay.status != Replay.Status.SUCCEEDED:
            raise ApplicationError(
                _("Approve once the replay has finished."), code="not_finished", status=409
            )
        moved_to = ModelAlias.objects.filter(name=replay.alias).values_list("version_id", flat=True)
        if moved_to.first() != replay.current_id:
            raise ApplicationError(
                _("The alias moved since this replay started; replay again."),
                code="alias_moved",
                status=409,
            )
        evaluation = replay.candidate.evaluations.filter(status="succeeded").first()
        based_on = {
            "replay": replay.pk,
            "replayed": replay.report.get("replayed"),
            "changed": replay.report.get("changed"),
        }
        if evaluation is not None:
            based_on.update(evaluation=evaluation.pk, accuracy=evaluation.report.get("accuracy"))
        registry.model_alias_point(
            alias=replay.alias, version=replay.candidate, user=user, based_on=based_on
        )
    replay.decision = Replay.Decision.APPROVED if approve else Replay.Decision.CANCELLED
    replay.decided_by, replay.decided_at = user, timezone.now()
    replay.save(update_fields=["decision", "decided_by", "decided_at", "updated_at"])
    return replay
