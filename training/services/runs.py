"""Training runs: start (one at a time per classifier) and cancel. Claims,
heartbeats and the sweep come from the job kernel (``core.jobs``)."""

import logging
from collections import defaultdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from models_registry.selectors import training_backbone
from training.models import Classifier, Example, ExampleImport, TrainingRun
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
    if classifier.imports.filter(status__in=ExampleImport.ACTIVE).exists():
        raise ApplicationError(
            _("Photos from a zip are still being added; train once that has finished."),
            code="import_running",
            status=409,
        )
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
            transaction.on_commit(run.enqueue)
    except IntegrityError:
        # Another request started one at the same moment: that one is the job.
        if (run := active_run(classifier=classifier)) is not None:
            return run, False
        raise
    return run, True


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
