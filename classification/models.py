"""What users classify: their images, the predictions, and batch jobs.

Files are stored under random names, re-encoded without metadata, and served
only through views that check the owner. Every prediction records the model
version and label set that produced it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import LeasedJob, TimeStampedModel, UploadedArchive
from models_registry.models import LabelSet, ModelVersion


def _image_path(instance, filename: str) -> str:
    return f"images/{instance.user_id}/{uuid.uuid4().hex}.jpg"


def _thumbnail_path(instance, filename: str) -> str:
    return f"images/{instance.user_id}/{uuid.uuid4().hex}-thumb.jpg"


def _batch_item_path(instance, filename: str) -> str:
    # Where batch inputs used to be stored one by one; the first migrations name it.
    return f"batches/{instance.job_id}/{uuid.uuid4().hex}"


class Image(TimeStampedModel):
    """A photo a user chose to keep, stripped of EXIF (GPS!) on save."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="images",
        verbose_name=_("user"),
    )
    file = models.ImageField(_("file"), upload_to=_image_path, max_length=255)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=_thumbnail_path, max_length=255)
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name or f"#{self.pk}"


class NoneOfTheseReason(models.TextChoices):
    LOW_CONFIDENCE = "low_confidence", _("not confident enough")
    UNLIKE_EXAMPLES = "unlike_examples", _("unlike the classifier’s examples")


def made_by_token() -> models.ForeignKey:
    """The API token that made a row (None: the pages, or a token since
    deleted). A token without history:read follows and deletes only what it
    made (classification.api.views)."""
    return models.ForeignKey(
        "accounts.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API token"),
    )


class Prediction(TimeStampedModel):
    """One classification of one image by one model version."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="predictions",
        verbose_name=_("user"),
    )
    image = models.OneToOneField(
        Image,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prediction",
        verbose_name=_("image"),
    )
    # RESTRICT: a user's own classifier goes together with the user's predictions.
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.RESTRICT, related_name="+", verbose_name=_("model version")
    )
    label_set = models.ForeignKey(
        LabelSet, on_delete=models.RESTRICT, related_name="+", verbose_name=_("label set")
    )
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    # [{"key": "n02123045", "index": 281, "probability": 0.83}, ...], best first.
    results = models.JSONField(_("results"))
    top_key = models.CharField(_("top class"), max_length=100)
    # The top probability was below the classifier's confidence threshold, or
    # the photo was too far from the classifier's examples (the reason says which).
    none_of_these = models.BooleanField(_("none of these"), default=False)
    none_of_these_reason = models.CharField(
        _("why none of these"), max_length=20, choices=NoneOfTheseReason.choices, blank=True
    )
    top_probability = models.FloatField(_("confidence"))
    # When no class reached the confidence asked for: the smallest broader class
    # that did ({"key", "name", "translations", "confidence", "threshold",
    # "classes", "contributors": [{"index", "key", "probability"}]}); else null.
    hedged = models.JSONField(_("hedged answer"), null=True, blank=True)
    # The alias the model was chosen by (e.g. "default"), when it was: replays
    # of a candidate model use these classifications.
    alias = models.CharField(_("alias"), max_length=50, blank=True, db_index=True)
    # Which file answered: "int8" (the version's variant that passed its gate)
    # or "fp32"; empty for classifications made before int8 variants.
    precision = models.CharField(_("precision"), max_length=4, blank=True)
    batch_item = models.OneToOneField(
        "BatchItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prediction",
        verbose_name=_("batch item"),
    )
    api_token = made_by_token()

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="prediction_user_recent")]

    def __str__(self) -> str:
        return f"{self.original_name or self.pk}: {self.top_key}"


class BatchJob(LeasedJob, UploadedArchive):
    """Many images classified in the background. This row, not the task queue,
    is the source of truth: status, progress, attempts and a lease. The images
    wait in ``archive`` (one zip) until the job ends."""

    lease_setting = "BATCH_LEASE_SECONDS"
    attempts_setting = "BATCH_MAX_ATTEMPTS"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="batch_jobs",
        verbose_name=_("user"),
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.RESTRICT, related_name="+", verbose_name=_("model version")
    )
    total = models.PositiveIntegerField(_("images"), default=0)
    done = models.PositiveIntegerField(_("classified"), default=0)
    failed = models.PositiveIntegerField(pgettext_lazy("count of photos", "failed"), default=0)
    top_k = models.PositiveSmallIntegerField(_("classes per image"), default=5)
    store_images = models.BooleanField(_("keep images"), default=True)
    # The language of the request that started the job: per-item errors are
    # written in it by the worker.
    language = models.CharField(_("language"), max_length=10, default="en")
    api_token = made_by_token()

    class Meta:
        verbose_name = _("batch job")
        verbose_name_plural = _("batch jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch #{self.pk} ({self.done + self.failed}/{self.total})"

    @property
    def percent(self) -> int:
        return round(100 * (self.done + self.failed) / self.total) if self.total else 100

    def enqueue(self, *, delay: float = 0) -> None:
        from classification.tasks import batch_job_run_task
        from core.jobs import enqueue_later

        enqueue_later(batch_job_run_task, self.pk, delay=delay)

    webhook_events = {"succeeded": "batch.finished", "failed": "batch.failed"}

    def webhook_data(self) -> dict:
        from django.urls import reverse

        return {
            "id": self.pk,
            "status": self.status,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "error": self.error,
            "url": reverse("api:batch-detail", args=[self.pk]),
            "results_url": reverse("api:batch-results", args=[self.pk]),
        }

    def on_finished(self) -> None:
        """Items nobody will classify any more fail with a reason; the inputs go."""
        from django.db.models import F
        from django.utils import translation
        from django.utils.translation import gettext

        with translation.override(self.language):
            reason = gettext("The job ended before this file was classified.")
        left = self.items.filter(status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.FAILED, error=reason, error_code="job_ended", error_params={}
        )
        if left:
            BatchJob.objects.filter(pk=self.pk).update(failed=F("failed") + left)
        self.archive_delete()


class BatchItem(models.Model):
    class Status(models.TextChoices):
        # One file's status (Spanish agrees with "archivo", not with a count).
        PENDING = "pending", pgettext_lazy("batch item status", "waiting")
        DONE = "done", pgettext_lazy("batch item status", "classified")
        FAILED = "failed", pgettext_lazy("batch item status", "failed")

    job = models.ForeignKey(
        BatchJob, on_delete=models.CASCADE, related_name="items", verbose_name=_("job")
    )
    index = models.PositiveIntegerField(_("position"))
    original_name = models.CharField(_("original name"), max_length=255)
    # Its name inside the job's archive.
    member = models.CharField(_("name in the archive"), max_length=1024, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # Why it failed: a code (and its numbers) shown in the reader's language
    # (classification.batch_errors); ``error`` keeps the text as written then.
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    error_params = models.JSONField(_("error details"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Several workers share a big batch: each takes one item at a time, for
    # a lease; an item whose worker vanished is taken again once it expires.
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("batch item")
        verbose_name_plural = _("batch items")
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="batchitem_job_index_unique")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.index} {self.original_name}"

    @property
    def error_message(self) -> str:
        """Why it failed, in the active language."""
        from classification.batch_errors import item_error_message

        return item_error_message(code=self.error_code, params=self.error_params, text=self.error)
