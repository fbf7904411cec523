"""Training runs: start (one at a time per classifier), cancel, claim, and the
sweep that recovers runs whose worker vanished."""

import logging
import os
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.jobs import enqueue_later, retry_delay
from models_registry.selectors import training_backbone
from training.models import Classifier, Example, TrainingRun
from training.selectors import active_run
from training.services.classifiers import check_class_count

logger = logging.getLogger(__name__)


# Training runs
# ------------------------------------------------------------------------------


def training_start(*, classifier: Classifier, user: User) -> tuple[TrainingRun, bool]:
    """Queues a training run; returns ``(run, created)``. Asking again while one
    runs returns that run: training twice at once on one classifier is one job."""
    if (run := active_run(classifier=classifier)) is not None:
        return run, False
    classes = list(classifier.classes.annotate(n=Count("examples")).order_by("id"))
    check_class_count(len(classes))
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
        if (run := active_run(classifier=classifier)) is not None:
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


# The job itself (worker side)
# ------------------------------------------------------------------------------


def worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def lease_length() -> timedelta:
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
            lease_expires_at=now + lease_length(),
            attempts=F("attempts") + 1,
            started_at=now,
        )
        == 1
    )


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
