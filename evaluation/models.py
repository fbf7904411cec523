"""Changing the model safely: measure a version on labelled photos before it
goes live, compare it with the version in use, replay recent real answers
through it, and learn from users who say an answer was wrong.

An ``EvaluationSet`` is a versioned set of labelled photos (a zip with one
folder per class, added by a worker); staff sets are shared, a user's set is
private to its owner and measures their own classifiers. An ``Evaluation``
runs one model version over one set in a worker and stores a report. A
``Replay`` runs the recent classifications made through an alias (whose owners
kept the image and did not opt out) through a candidate version and says which
answers would change; an administrator approves (the alias moves, recording
the report) or cancels. ``Feedback`` is a user's "wrong? the right class is X".
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import LeasedJob, TimeStampedModel
from core.photo_imports import PhotoImport
from models_registry.models import LabelSet, ModelVersion


def _photo_path(instance, filename: str) -> str:
    return f"evaluation/{instance.evaluation_set_id}/{uuid.uuid4().hex}.jpg"


class EvaluationSet(PhotoImport):
    """Labelled photos to measure models on. Its status is its import's: ready
    ("finished") once every photo of the zip was looked at. ``members`` name
    each photo's class key."""

    photo_max_side = 640  # enough for any model input up to 640 after the crop

    name = models.CharField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"), default=1)
    description = models.TextField(_("description"), blank=True)
    # The classes its folders were matched against (keys, names or translations).
    label_set = models.ForeignKey(
        LabelSet, on_delete=models.PROTECT, related_name="+", verbose_name=_("label set")
    )
    # Set: private to this user (their own classifiers); empty: a staff set.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evaluation_sets",
        verbose_name=_("owner"),
    )
    user = models.ForeignKey(  # who uploaded it (the pending-uploads space counts here)
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("uploaded by"),
    )

    class Meta:
        verbose_name = _("evaluation set")
        verbose_name_plural = _("evaluation sets")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                condition=models.Q(owner__isnull=True),
                name="evaluationset_name_version_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    def enqueue(self, *, delay: float = 0) -> None:
        from core.jobs import enqueue_later
        from evaluation.tasks import evaluation_set_import_task

        enqueue_later(evaluation_set_import_task, self.pk, delay=delay)

    def import_photo(self, *, target, name: str, jpeg: bytes, sha256: str) -> str:
        from evaluation.services.sets import evaluation_photo_store

        return evaluation_photo_store(
            evaluation_set=self, label_key=target, name=name, jpeg=jpeg, sha256=sha256
        )


class EvaluationPhoto(models.Model):
    evaluation_set = models.ForeignKey(
        EvaluationSet, on_delete=models.CASCADE, related_name="photos", verbose_name=_("set")
    )
    file = models.ImageField(_("file"), upload_to=_photo_path, max_length=255)
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    label_key = models.CharField(_("true class"), max_length=100, db_index=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("evaluation photo")
        verbose_name_plural = _("evaluation photos")
        ordering = ["evaluation_set", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation_set", "sha256"], name="evaluation_photo_unique_per_set"
            )
        ]

    def __str__(self) -> str:
        return self.original_name or str(self.pk)


class Evaluation(LeasedJob):
    """One model version measured on one evaluation set, by a worker."""

    lease_setting = "BATCH_LEASE_SECONDS"
    attempts_setting = "BATCH_MAX_ATTEMPTS"

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("model")
    )
    evaluation_set = models.ForeignKey(
        EvaluationSet, on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("set")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)
    # core.scores' numbers, plus "answers": [[photo id, true, predicted,
    # confidence, in the top 5], ...] and "skipped" (photos of classes the
    # model does not know).
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} on {self.evaluation_set}"

    def enqueue(self, *, delay: float = 0) -> None:
        from core.jobs import enqueue_later
        from evaluation.tasks import evaluation_run_task

        enqueue_later(evaluation_run_task, self.pk, delay=delay)


class Replay(LeasedJob):
    """Recent real answers of an alias, run again through a candidate version:
    what would change for the people using it, before it goes live."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("waiting for a decision")
        APPROVED = "approved", _("approved: the alias moved")
        CANCELLED = "cancelled", _("cancelled")

    lease_setting = "BATCH_LEASE_SECONDS"
    attempts_setting = "BATCH_MAX_ATTEMPTS"

    alias = models.CharField(_("alias"), max_length=50)
    current = models.ForeignKey(
        ModelVersion,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("version in use"),
    )
    candidate = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="replays", verbose_name=_("candidate")
    )
    limit = models.PositiveIntegerField(_("answers replayed at most"), default=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)
    # {"replayed": n, "changed": k, "changes": [{prediction, before, after,
    # before_probability, after_probability}, ...]}: answers only, never photos.
    report = models.JSONField(_("report"), default=dict, blank=True)
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("replay")
        verbose_name_plural = _("replays")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.candidate} replaying “{self.alias}”"

    def enqueue(self, *, delay: float = 0) -> None:
        from core.jobs import enqueue_later
        from evaluation.tasks import replay_run_task

        enqueue_later(replay_run_task, self.pk, delay=delay)


class Feedback(TimeStampedModel):
    """ "Wrong? The right class is ...", on one classification."""

    class Status(models.TextChoices):
        EXAMPLE = "example", _("added to the classifier's examples")
        INBOX = "inbox", _("waiting in the staff inbox")
        USED = "used", _("put in an evaluation set")
        DISMISSED = "dismissed", _("dismissed")

    prediction = models.OneToOneField(
        "classification.Prediction",
        on_delete=models.CASCADE,
        related_name="feedback",
        verbose_name=_("classification"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feedback",
        verbose_name=_("user"),
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("model")
    )
    predicted_key = models.CharField(_("answered"), max_length=100)
    correct_key = models.CharField(_("right class"), max_length=100)
    # The user agreed that staff may keep the photo to test models with.
    consent = models.BooleanField(_("photo shared with staff"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.predicted_key} → {self.correct_key}"
