"""Batches: many images classified by workers in the background.

The request stores what was uploaded as one zip (the uploaded archive as it
is, or a new one holding the uploaded files): one write, however many images.
Workers read each item from that archive, one at a time, and the archive is
deleted when the job ends. Several workers share a big batch; the job is a
``LeasedJob`` (claims, heartbeats and the sweep come from ``core.jobs``).
"""

import logging
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from classification.batch_errors import ItemError
from classification.models import BatchItem, BatchJob
from classification.services.classify import _AlreadyDone, classify_uploads
from core.exceptions import ApplicationError
from core.jobs import job_claim, job_finish, job_heartbeat, job_release, worker_name
from core.shutdown import stop_requested, watch_for_stop
from core.storage import storage_errors
from core.uploads import Upload, clean_name, pending_uploads_check
from core.zips import zip_member_read, zip_members, zip_open
from models_registry.models import ModelVersion

logger = logging.getLogger(__name__)

ITEMS_PER_RUNNER = 20


# Starting a batch (in the request)
# ------------------------------------------------------------------------------


def _zip_of_files(uploads: list[Upload]):
    """Loose files as a new uncompressed zip in a temporary file, one in memory
    at a time. Returns the file and ``[(member name, display name)]``."""
    names: list[tuple[str, str]] = []
    temporary = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller)
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as target:
        for upload in uploads:
            member_name = f"{len(names):05d}"
            target.writestr(member_name, upload.data)
            names.append((member_name, clean_name(upload.name)))
    temporary.seek(0)
    return temporary, names


@storage_errors()
def batch_job_create(
    *,
    user: User,
    version: ModelVersion,
    uploads: list[Upload] = (),
    archive=None,
    top_k: int = 5,
    store: bool = True,
    api_token=None,
) -> BatchJob:
    """``archive``: an uploaded zip (a file), stored as it came; or ``uploads``:
    loose files, stored together as one new zip. Checks the zip's directory
    (counts, sizes, bombs) and the user's space for inputs waiting to be
    processed, stores one archive, and queues the job after the commit.
    ``api_token``: the token that started it, if any (it may follow the job)."""
    if archive is not None and uploads:
        raise ApplicationError(
            _("Send either a zip or photos, not both at once."), code="zip_and_files"
        )
    if archive is not None:
        members = zip_members(zip_open(archive))
        source, names = archive, [(m.info.filename, m.name) for m in members]
    elif len(uploads) > settings.BATCH_MAX_FILES:
        raise ApplicationError(
            _("At most %(max)d images per batch.") % {"max": settings.BATCH_MAX_FILES},
            code="too_many_files",
        )
    elif uploads:
        source, names = _zip_of_files(list(uploads))
    else:
        raise ApplicationError(_("Choose at least one image."), code="no_images")
    try:
        source.seek(0, 2)
        size = source.tell()
        source.seek(0)
        job = BatchJob(
            user=user,
            model_version=version,
            total=len(names),
            top_k=top_k,
            store_images=store,
            language=get_language() or "en",
            archive_bytes=size,
            api_token=api_token,
        )
        job.archive.save("input.zip", File(source), save=False)  # the one write
    finally:
        if source is not archive:
            source.close()
    try:
        with transaction.atomic():
            pending_uploads_check(user=user, adding=size)
            job.save()
            BatchItem.objects.bulk_create(
                BatchItem(job=job, index=index, member=member, original_name=name)
                for index, (member, name) in enumerate(names)
            )
    except BaseException:
        job.archive.delete(save=False)
        raise
    runners = batch_runners_for(len(names))
    # A lost message is not a lost job: the sweep sends queued jobs again.
    transaction.on_commit(lambda: batch_job_enqueue(job=job, runners=runners), robust=True)
    return job


def batch_job_enqueue(*, job: BatchJob, runners: int = 1) -> None:
    """Queues ``runners`` tasks for the job: each worker that takes one shares
    the items with the others."""
    for _runner in range(max(1, runners)):
        job.enqueue()


def batch_runners_for(total: int) -> int:
    """One task per ITEMS_PER_RUNNER images, at most BATCH_RUNNERS_PER_JOB."""
    return max(1, min(settings.BATCH_RUNNERS_PER_JOB, -(-total // ITEMS_PER_RUNNER)))


# Running it (in workers)
# ------------------------------------------------------------------------------


def batch_item_claim(*, job: BatchJob, worker: str) -> BatchItem | None:
    """The next pending item nobody holds (or whose holder's claim expired)."""
    now = timezone.now()
    with transaction.atomic():
        item = (
            BatchItem.objects.select_for_update(skip_locked=True)
            .filter(job=job, status=BatchItem.Status.PENDING)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("index")
            .first()
        )
        if item is None:
            return None
        BatchItem.objects.filter(pk=item.pk).update(
            claimed_by=worker,
            claimed_until=now + timedelta(seconds=settings.BATCH_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    return item


@contextmanager
def _opened_archive(job: BatchJob):
    if not job.archive:
        yield None
        return
    with job.archive.open("rb") as handle:
        yield zip_open(handle)


def _classify_item(*, job: BatchJob, item: BatchItem, archive) -> None:
    try:
        if archive is None:
            raise ApplicationError(_("The uploaded file is missing."), code="input_missing")
        try:
            info = archive.getinfo(item.member)
        except KeyError as error:
            raise ApplicationError(
                _("The uploaded file is missing."), code="input_missing"
            ) from error
        data = zip_member_read(archive, info)
        classify_uploads(
            user=job.user,
            uploads=[Upload(item.original_name, data)],
            version=job.model_version,
            store=job.store_images,
            batch_item=item,
        )
    except _AlreadyDone:
        return  # another worker finished it meanwhile: theirs stays
    except ApplicationError as error:
        _fail_item(job=job, item=item, reason=ItemError.of(error))


def _fail_item(*, job: BatchJob, item: BatchItem, reason: ItemError) -> None:
    with transaction.atomic():
        updated = BatchItem.objects.filter(pk=item.pk, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.FAILED,
            error_code=reason.code,
            error_params=reason.params,
            error=reason.text[:500],
        )
        if updated:
            BatchJob.objects.filter(pk=job.pk).update(failed=F("failed") + 1)


def batch_job_run(*, job_id: int, worker: str | None = None) -> BatchJob | None:
    """Classifies pending items until none is left; safe to run again, and to
    run on several workers at once (each takes one item at a time).

    The first runner takes the job's lease (queued, or running with an expired
    lease); later ones join a running job. An item that was started too often
    without finishing (it keeps killing its worker) fails alone. On SIGTERM
    the runner hands its work back between two items.
    """
    worker = worker or worker_name()
    job = BatchJob.objects.select_related("user", "model_version__label_set").filter(pk=job_id)
    job = job.first()
    if job is None:
        return None
    if not job_claim(job=job, worker=worker):
        job.refresh_from_db(fields=["status"])
        if job.status != BatchJob.Status.RUNNING:
            return None  # finished, failed, or not started by anyone yet
    with watch_for_stop(), _opened_archive(job) as archive:
        while (item := batch_item_claim(job=job, worker=worker)) is not None:
            if stop_requested():
                BatchItem.objects.filter(pk=item.pk, claimed_by=worker).update(
                    claimed_until=None, attempts=F("attempts") - 1
                )
                job_release(job=job, worker=worker)
                job.refresh_from_db()
                return job
            with translation.override(job.language):
                if item.attempts + 1 > settings.BATCH_ITEM_MAX_ATTEMPTS:
                    reason = ItemError(
                        "worker_stopped", text=_("This file stopped the worker repeatedly.")
                    )
                    _fail_item(job=job, item=item, reason=reason)
                else:
                    _classify_item(job=job, item=item, archive=archive)
            BatchItem.objects.filter(pk=item.pk).update(claimed_until=None)
            job_heartbeat(job=job)  # any runner making progress keeps the job's lease
    # The last runner out closes the job (items others still hold keep it open).
    if not BatchItem.objects.filter(job=job, status=BatchItem.Status.PENDING).exists():
        job_finish(job=job, status=BatchJob.Status.SUCCEEDED)
    job.refresh_from_db()
    return job
