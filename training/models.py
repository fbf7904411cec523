"""A user's own classifiers, trained from example images.

A ``Classifier`` has classes with examples. Each ``TrainingRun`` embeds the
examples with the frozen pretrained backbone, trains a softmax head, and on
success registers a new private ``ModelVersion`` (backbone + head, one ONNX
file) with its own label set. The classifier's ``active_version`` is the one
used when the owner classifies with it; earlier versions stay available.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.models import LeasedJob, TimeStampedModel
from core.photo_imports import PhotoImport
from models_registry.models import ModelVersion


def _example_upload_to(instance: "Example", filename: str) -> str:
    return f"examples/{uuid.uuid4().hex}.jpg"


class Classifier(TimeStampedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="classifiers",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    active_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("active version"),
    )

    class Meta:
        verbose_name = _("classifier")
        verbose_name_plural = _("classifiers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="classifier_owner_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ClassifierClass(models.Model):
    classifier = models.ForeignKey(
        Classifier, on_delete=models.CASCADE, related_name="classes", verbose_name=_("classifier")
    )
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["classifier", "id"]
        constraints = [
            models.UniqueConstraint(fields=["classifier", "name"], name="class_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Example(models.Model):
    classifier_class = models.ForeignKey(
        ClassifierClass, on_delete=models.CASCADE, related_name="examples", verbose_name=_("class")
    )
    file = models.ImageField(_("file"), upload_to=_example_upload_to, max_length=255)
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # The backbone's features for this image, kept so retraining embeds only
    # new examples: float32 bytes, valid for the backbone whose ONNX digest it names.
    embedding = models.BinaryField(_("embedding"), null=True, blank=True, editable=False)
    embedding_backbone = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("example")
        verbose_name_plural = _("examples")
        ordering = ["classifier_class", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["classifier_class", "sha256"], name="example_unique_per_class"
            )
        ]

    def __str__(self) -> str:
        return self.original_name or str(self.pk)


class TrainingRun(LeasedJob):
    lease_setting = "TRAINING_LEASE_SECONDS"
    attempts_setting = "TRAINING_MAX_ATTEMPTS"

    class Phase(models.TextChoices):
        WAITING = "waiting", _("waiting for a worker")
        EMBEDDING = "embedding", _("looking at the examples")
        TRAINING = "training", _("training")
        EVALUATING = "evaluating", _("measuring")
        EXPORTING = "exporting", _("saving the model")
        DONE = "done", _("done")

    classifier = models.ForeignKey(
        Classifier, on_delete=models.CASCADE, related_name="runs", verbose_name=_("classifier")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_runs",
        verbose_name=_("user"),
    )
    number = models.PositiveIntegerField(_("number"))
    phase = models.CharField(
        _("phase"), max_length=20, choices=Phase.choices, default=Phase.WAITING
    )
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    language = models.CharField(max_length=10, default="en")
    # The classes as they were when the run started: {"names": [...], "examples": [[ids]]}
    snapshot = models.JSONField(_("snapshot"), default=dict)
    # accuracy, per_class, confusion, validation, thresholds, timings
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    model_version = models.OneToOneField(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_run",
        verbose_name=_("model version"),
    )

    class Meta:
        verbose_name = _("training run")
        verbose_name_plural = _("training runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Training twice at once on one classifier is one job.
            models.UniqueConstraint(
                fields=["classifier"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_run_per_classifier",
            ),
            models.UniqueConstraint(fields=["classifier", "number"], name="run_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.classifier} #{self.number}"

    def enqueue(self, *, delay: float = 0) -> None:
        from core.jobs import enqueue_later
        from training.tasks import training_run_task

        enqueue_later(training_run_task, self.pk, delay=delay)

    gave_up_message = gettext_noop("The worker stopped %(count)d times during this training.")

    def give_up(self) -> dict | None:
        if self.cancel_requested:
            return {"status": self.Status.CANCELLED, "error": ""}
        return super().give_up()

    webhook_events = {"succeeded": "training.finished", "failed": "training.failed"}

    def webhook_data(self) -> dict:
        from django.urls import reverse

        return {
            "id": self.pk,
            "status": self.status,
            "classifier": self.classifier_id,
            "number": self.number,
            "model": self.model_version_id,
            "error": self.error,
            "url": reverse("api:training-run-detail", args=[self.pk]),
            "classifier_url": reverse("api:classifier-detail", args=[self.classifier_id]),
        }


class ExampleImport(PhotoImport):
    """A zip of example photos (one folder per class), checked and added by a
    worker (``core.photo_imports``): decoding hundreds of photos never happens
    inside a request. ``members`` name each photo's class id."""

    photo_max_side = settings.EXAMPLE_MAX_SIDE

    classifier = models.ForeignKey(
        Classifier, on_delete=models.CASCADE, related_name="imports", verbose_name=_("classifier")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="example_imports",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("example import")
        verbose_name_plural = _("example imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.classifier} import #{self.pk}"

    def enqueue(self, *, delay: float = 0) -> None:
        from core.jobs import enqueue_later
        from training.tasks import example_import_task

        enqueue_later(example_import_task, self.pk, delay=delay)

    def import_photo(self, *, target, name: str, jpeg: bytes, sha256: str) -> str:
        from training.services.examples import example_store_checked

        return example_store_checked(class_id=target, name=name, jpeg=jpeg, sha256=sha256)

    def imported(self) -> None:
        from django.utils import timezone

        Classifier.objects.filter(pk=self.classifier_id).update(updated_at=timezone.now())
