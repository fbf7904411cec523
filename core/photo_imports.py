"""A zip of photos, one folder per class, added by a worker: the common part of
examples for a classifier and evaluation sets for the registry.

The request checks the zip's directory and stores it as it came
(``core.zips``); a ``PhotoImport`` job then reads each member, decodes and
re-encodes it (``photo_prepare``) and hands it to its own ``import_photo``,
inside one transaction with the job's ``position``: each photo is added
exactly once, and a worker that dies half-way is resumed where it stopped.
Photos that cannot be used are counted and the first ones listed with the
reason; the others are added.
"""

import hashlib

from django.db import models, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from core.images import PixelBudget, encode_jpeg
from core.jobs import job_claim, job_finish, job_heartbeat, job_release, worker_name
from core.models import LeasedJob, UploadedArchive
from core.shutdown import stop_requested, watch_for_stop
from core.uploads import Upload, open_upload
from core.zips import zip_member_read, zip_open

PROBLEMS_LISTED = 200  # refused photos named one by one; ``failed`` counts them all


class PhotoImport(LeasedJob, UploadedArchive):
    lease_setting = "BATCH_LEASE_SECONDS"
    attempts_setting = "BATCH_MAX_ATTEMPTS"
    photo_max_side = 512  # the photos are stored re-encoded at most this large

    language = models.CharField(max_length=10, default="en")
    # [[name in the archive, the class it goes to], ...] in the order they are added.
    members = models.JSONField(gettext_lazy("files"), default=list)
    total = models.PositiveIntegerField(gettext_lazy("photos"), default=0)
    position = models.PositiveIntegerField(gettext_lazy("files done"), default=0)
    added = models.PositiveIntegerField(gettext_lazy("added"), default=0)
    duplicates = models.PositiveIntegerField(gettext_lazy("already there"), default=0)
    failed = models.PositiveIntegerField(gettext_lazy("refused"), default=0)
    # [{"file": ..., "error": ...}] for the first photos that were refused.
    problems = models.JSONField(gettext_lazy("problems"), default=list, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        return round(100 * self.position / self.total) if self.total else 100

    def on_finished(self) -> None:
        self.archive_delete()

    def import_photo(self, *, target, name: str, jpeg: bytes, sha256: str) -> str:
        """Inside the position's transaction: store one checked photo for
        ``target`` (the second item of its ``members`` entry). Returns
        "added" or "duplicate"; raises ApplicationError to refuse it."""
        raise NotImplementedError

    def imported(self) -> None:
        """After the last photo (the job is about to succeed)."""


def photo_prepare(
    upload: Upload, *, max_side: int, budget: PixelBudget | None = None
) -> tuple[bytes, str]:
    """Decodes and checks one photo: its stored JPEG (at most ``max_side``)
    and the SHA-256 of what was uploaded (the same picture twice is kept once)."""
    data = upload.data
    image = open_upload(upload, data=data, draft_size=max_side, budget=budget)
    return encode_jpeg(image, max_side), hashlib.sha256(data).hexdigest()


def _noted(problems: list, problem: dict) -> list:
    return problems if len(problems) >= PROBLEMS_LISTED else [*problems, problem]


def _import_one(job: PhotoImport, archive, position: int) -> None:
    """One photo, in one transaction with the job's position."""
    model = type(job)
    member, target = job.members[position]
    name = member.replace("\\", "/").rsplit("/", 1)[-1]
    problem = None
    try:
        data = zip_member_read(archive, archive.getinfo(member))
        jpeg, digest = photo_prepare(Upload(name, data), max_side=job.photo_max_side)
    except (ApplicationError, KeyError) as error:
        reason = error.message if isinstance(error, ApplicationError) else _("It is missing.")
        problem = {"file": name, "error": str(reason)}
    with transaction.atomic():
        current = model.objects.select_for_update().filter(pk=job.pk).first()
        if current is None or current.position != position or current.worker != job.worker:
            return  # deleted meanwhile, or another worker took over
        fields: dict = {"position": position + 1}
        if problem is None:
            try:
                with transaction.atomic():
                    outcome = current.import_photo(
                        target=target, name=name, jpeg=jpeg, sha256=digest
                    )
            except ApplicationError as error:
                problem = {"file": name, "error": str(error.message)}
            else:
                counter = "added" if outcome == "added" else "duplicates"
                fields[counter] = F(counter) + 1
        if problem is not None:
            fields["failed"] = F("failed") + 1
            fields["problems"] = _noted(current.problems, problem)
        model.objects.filter(pk=job.pk).update(**fields)


def photo_import_run(*, job_class, job_id: int, worker: str | None = None):
    """The worker's job: adds the photos from where the last worker stopped."""
    worker = worker or worker_name()
    job = job_class.objects.filter(pk=job_id).first()
    if job is None or not job_claim(job=job, worker=worker):
        return None
    job.refresh_from_db()
    with watch_for_stop(), translation.override(job.language):
        try:
            with job.archive.open("rb") as handle:
                archive = zip_open(handle)
                for position in range(job.position, job.total):
                    if stop_requested():
                        job_release(job=job, worker=worker)
                        return job
                    _import_one(job, archive, position)
                    if not job_heartbeat(job=job, worker=worker):
                        return job  # the lease went to another worker
        except (ApplicationError, OSError) as error:
            message = getattr(error, "message", None) or _("The zip cannot be read.")
            job_finish(job=job, worker=worker, status=job_class.Status.FAILED, error=message)
            return job
    job.imported()
    job_finish(job=job, worker=worker, status=job_class.Status.SUCCEEDED)
    job.refresh_from_db()
    return job
