import logging
import uuid

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)


class TimeStampedModel(models.Model):
    """Base for the project's tables: when a row was created and last changed."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


def delete_files_after_commit(*files) -> None:
    """Stored files leave with their rows, once the deletion has committed."""
    for field in files:
        if field and field.name:
            storage, name = field.storage, field.name
            transaction.on_commit(lambda s=storage, n=name: s.delete(n))


class LeasedJob(TimeStampedModel):
    """Background work whose row, not the task queue, is the source of truth.

    A worker *claims* the job (queued, or running with an expired lease), renews
    its lease while it works (``core.jobs.job_heartbeat``) and *finishes* it; a
    worker that vanishes leaves an expired lease, and the sweep queues the job
    again after a backoff, or gives up after ``max_attempts()``. Each kind of job
    names its settings and its task, and keeps only its own steps.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("finished")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    # Names of the settings holding the lease length (seconds) and the attempts.
    lease_setting = "JOB_LEASE_SECONDS"
    attempts_setting = "JOB_MAX_ATTEMPTS"

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # When a queued job may run: now, or after a retry's backoff. The sweep
    # sends it again if it still waits three lease lengths after that.
    runnable_at = models.DateTimeField(_("runnable from"), default=timezone.now)

    class Meta:
        abstract = True

    @classmethod
    def lease_length(cls):
        from datetime import timedelta

        from django.conf import settings

        return timedelta(seconds=getattr(settings, cls.lease_setting))

    @classmethod
    def max_attempts(cls) -> int:
        from django.conf import settings

        return getattr(settings, cls.attempts_setting)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return not self.is_active

    def enqueue(self, *, delay: float = 0) -> None:
        """Sends the job's task to the queue (not before ``delay`` seconds)."""
        raise NotImplementedError

    # The reason a job out of attempts fails with (translated when written).
    gave_up_message = gettext_noop("The job stopped %(count)d times without finishing.")

    def give_up(self) -> dict | None:
        """What the sweep writes when this job's worker vanished: ``None`` to
        queue it again, or the fields that end it (out of attempts)."""
        if self.attempts < self.max_attempts():
            return None
        from django.utils.translation import gettext

        message = gettext(self.gave_up_message) % {"count": self.attempts}
        return {"status": self.Status.FAILED, "error": message}

    def on_finished(self) -> None:
        """Called once the job has ended by any path (cleanup of its inputs)."""

    # The webhook event an ending sends to the job's user, by final status
    # (e.g. {"succeeded": "batch.finished"}); none when empty.
    webhook_events: dict[str, str] = {}

    def webhook_data(self) -> dict:
        """What a webhook event says about this job (``data.object``)."""
        return {"id": self.pk, "status": self.status, "error": self.error}


def _archive_path(instance, filename: str) -> str:
    return f"uploads/{uuid.uuid4().hex}.zip"


class UploadedArchive(models.Model):
    """What a job will read, kept as the one zip it came in until the job ends.
    A user's archives waiting to be processed count against their space
    (``core.uploads.pending_uploads_check``)."""

    archive = models.FileField(
        _("uploaded files"), upload_to=_archive_path, max_length=255, blank=True
    )
    archive_bytes = models.PositiveBigIntegerField(_("size of the uploaded files"), default=0)

    class Meta:
        abstract = True

    def archive_delete(self) -> None:
        """The archive goes once its job has ended. If storage fails now, the
        file stays behind for ``manage.py prune`` (it keeps only the archives of
        unfinished jobs)."""
        if not self.archive:
            return
        try:
            self.archive.delete(save=False)
        except Exception:
            logger.exception("could not delete %s; prune will", self.archive.name)
        type(self).objects.filter(pk=self.pk).update(archive="")
