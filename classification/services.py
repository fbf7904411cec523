"""Writes for classification: single images (synchronous), batches (jobs)."""

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from PIL import Image as PILImage

from accounts.models import User
from classification import inference
from classification.models import BatchItem, BatchJob, Image, Prediction
from core.exceptions import ApplicationError
from core.images import encode_jpeg, to_tensor
from core.jobs import enqueue_later, retry_delay
from core.shutdown import stop_requested, watch_for_stop
from core.storage import storage_errors
from core.uploads import Upload, clean_name, open_upload, uploads_from_zip  # noqa: F401
from models_registry.models import ModelVersion
from models_registry.selectors import model_version_for_alias_cached

logger = logging.getLogger(__name__)

STORED_RESULTS = 10  # classes kept per prediction (top_k asks for up to this many)
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}


# Choosing a model
# ------------------------------------------------------------------------------


def model_version_resolve(*, user: User, model: str | int | None) -> ModelVersion:
    """``model`` is an alias name (default: ``default``) or a version id."""
    model = str(model).strip() if model not in (None, "") else "default"
    if model.isdigit() and len(model) <= 18:
        version = (
            ModelVersion.objects.select_related("label_set")
            .filter(pk=int(model), status=ModelVersion.Status.READY)
            .first()
        )
    else:
        version = model_version_for_alias_cached(alias=model)
    if version is not None and not version.usable_by(user):
        version = None  # someone else's classifier: as if it did not exist
    if version is None:
        raise ApplicationError(
            _("There is no ready classifier called “%(model)s”.") % {"model": model},
            code="unknown_model",
        )
    if version.status != ModelVersion.Status.READY:
        raise ApplicationError(
            _("This model is not ready to classify yet."), code="model_not_ready", status=409
        )
    return version


# Single images
# ------------------------------------------------------------------------------


@dataclass
class _Decoded:
    upload: Upload
    image: PILImage.Image


def _store_image(*, user: User, decoded: _Decoded) -> Image:
    full = encode_jpeg(decoded.image, settings.STORED_IMAGE_MAX_SIDE)
    thumb = encode_jpeg(decoded.image, settings.THUMBNAIL_SIDE)
    image = Image(
        user=user,
        original_name=clean_name(decoded.upload.name),
        width=decoded.image.width,
        height=decoded.image.height,
        sha256=hashlib.sha256(decoded.upload.data).hexdigest(),
    )
    image.file.save("image.jpg", ContentFile(full), save=False)
    image.thumbnail.save("thumb.jpg", ContentFile(thumb), save=False)
    image.save()
    return image


def _results(probabilities, version: ModelVersion) -> list[dict]:
    ranked = inference.rank(probabilities, version, top_k=STORED_RESULTS, language="en")
    return [
        {"index": label.index, "key": label.key, "probability": round(label.probability, 6)}
        for label in ranked
    ]


@storage_errors()
def classify_uploads(
    *, user: User, uploads: list[Upload], version: ModelVersion, store: bool = True
) -> list[Prediction]:
    """Classifies several images at once. Every image is decoded first: one bad
    file fails the whole request with its name, and nothing is stored."""
    if not uploads:
        raise ApplicationError(_("Choose at least one image."), code="no_images")
    if len(uploads) > settings.CLASSIFY_MAX_FILES:
        raise ApplicationError(
            _("At most %(max)d images per request; use a batch for more.")
            % {"max": settings.CLASSIFY_MAX_FILES},
            code="too_many_images",
        )
    spec = inference.preprocessing_for(version)
    draft = max(spec.resize, settings.STORED_IMAGE_MAX_SIDE) if store else spec.resize
    decoded = []
    for upload in uploads:
        decoded.append(_Decoded(upload, open_upload(upload, draft_size=draft)))

    import numpy as np

    batch = np.concatenate([to_tensor(item.image, spec) for item in decoded])
    probabilities = inference.run(version, batch)

    stored_files: list = []
    try:
        with transaction.atomic():
            predictions = []
            for item, row in zip(decoded, probabilities, strict=True):
                image = _store_image(user=user, decoded=item) if store else None
                if image is not None:
                    stored_files += [image.file, image.thumbnail]
                results = _results(row, version)
                threshold = version.confidence_threshold
                predictions.append(
                    Prediction.objects.create(
                        user=user,
                        image=image,
                        model_version=version,
                        label_set=version.label_set,
                        original_name=clean_name(item.upload.name),
                        results=results,
                        top_key=results[0]["key"],
                        top_probability=results[0]["probability"],
                        none_of_these=threshold is not None
                        and results[0]["probability"] < threshold,
                    )
                )
    except Exception:
        for stored in stored_files:  # no orphan files when the rows are rolled back
            stored.delete(save=False)
        raise
    return predictions


def prediction_delete(*, user: User, prediction_id: int) -> None:
    prediction = (
        Prediction.objects.filter(user=user, pk=prediction_id).select_related("image").first()
    )
    if prediction is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    with transaction.atomic():
        if prediction.image is not None:
            prediction.image.delete()
        prediction.delete()


def prediction_delete_all(*, user: User) -> int:
    with transaction.atomic():
        count = Prediction.objects.filter(user=user).count()
        Image.objects.filter(user=user).delete()
        Prediction.objects.filter(user=user).delete()
    return count


# Batches
# ------------------------------------------------------------------------------


@storage_errors()
def batch_job_create(
    *,
    user: User,
    uploads: list[Upload],
    version: ModelVersion,
    top_k: int = 5,
    store: bool = True,
) -> BatchJob:
    """Stores the inputs under random names and queues the job after commit."""
    if not uploads:
        raise ApplicationError(_("Choose at least one image."), code="no_images")
    if len(uploads) > settings.BATCH_MAX_FILES:
        raise ApplicationError(
            _("At most %(max)d images per batch.") % {"max": settings.BATCH_MAX_FILES},
            code="too_many_files",
        )
    saved: list = []
    try:
        with transaction.atomic():
            job = BatchJob.objects.create(
                user=user,
                model_version=version,
                total=len(uploads),
                top_k=top_k,
                store_images=store,
                language=get_language() or "en",
            )
            items = []
            for index, upload in enumerate(uploads):
                item = BatchItem(job=job, index=index, original_name=clean_name(upload.name))
                item.file.save("input", ContentFile(upload.data), save=False)
                saved.append(item.file)
                items.append(item)
            BatchItem.objects.bulk_create(items)
            runners = _runners_for(len(items))
            transaction.on_commit(lambda: batch_job_enqueue(job=job, runners=runners))
    except Exception:
        for stored in saved:
            stored.delete(save=False)
        raise
    return job


def batch_job_enqueue(*, job: BatchJob, runners: int = 1, delay: float = 0) -> None:
    """Queues ``runners`` tasks for the job: each worker that takes one shares
    the items with the others (one task per ITEMS_PER_RUNNER images, at most
    BATCH_RUNNERS_PER_JOB). ``delay`` seconds: not before then (retries)."""
    from classification.tasks import batch_job_run_task

    for _runner in range(max(1, runners)):
        enqueue_later(batch_job_run_task, job.pk, delay=delay)


ITEMS_PER_RUNNER = 20


def _runners_for(total: int) -> int:
    return max(1, min(settings.BATCH_RUNNERS_PER_JOB, -(-total // ITEMS_PER_RUNNER)))


def _worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def batch_job_claim(*, job_id: int, worker: str) -> bool:
    """Takes the job's lease if it is queued, or running with an expired lease."""
    now = timezone.now()
    claimed = BatchJob.objects.filter(
        Q(status=BatchJob.Status.QUEUED)
        | Q(status=BatchJob.Status.RUNNING, lease_expires_at__lt=now),
        pk=job_id,
    ).update(
        status=BatchJob.Status.RUNNING,
        worker=worker,
        lease_expires_at=now + timedelta(seconds=settings.BATCH_LEASE_SECONDS),
        attempts=F("attempts") + 1,
        started_at=now,
    )
    return claimed == 1


def _classify_item(*, job: BatchJob, item: BatchItem) -> None:
    try:
        with item.file.open("rb") as handle:
            data = handle.read()
        prediction = classify_uploads(
            user=job.user,
            uploads=[Upload(name=item.original_name, data=data)],
            version=job.model_version,
            store=job.store_images,
        )[0]
    except ApplicationError as error:
        _fail_item(job=job, item=item, reason=error.message)
        return
    with transaction.atomic():
        updated = BatchItem.objects.filter(pk=item.pk, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.DONE
        )
        if not updated:  # another worker finished it meanwhile: keep theirs
            if prediction.image is not None:
                prediction.image.delete()
            prediction.delete()
            return
        Prediction.objects.filter(pk=prediction.pk).update(batch_item=item)
        BatchJob.objects.filter(pk=job.pk).update(done=F("done") + 1)


def _claim_item(*, job: BatchJob, worker: str) -> BatchItem | None:
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


def batch_job_run(*, job_id: int, worker: str | None = None) -> BatchJob | None:
    """Classifies pending items until none is left; safe to run again, and to
    run on several workers at once (each takes one item at a time).

    The first runner takes the job's lease (queued, or running with an expired
    lease); later ones join a running job. An item that was started too often
    without finishing (it keeps killing its worker) fails alone. On SIGTERM
    the runner hands its work back between two items.
    """
    worker = worker or _worker_name()
    if (
        not batch_job_claim(job_id=job_id, worker=worker)
        and not BatchJob.objects.filter(pk=job_id, status=BatchJob.Status.RUNNING).exists()
    ):
        return None  # finished, failed, or not started by anyone yet
    job = BatchJob.objects.select_related("user", "model_version__label_set").get(pk=job_id)
    lease = timedelta(seconds=settings.BATCH_LEASE_SECONDS)
    with watch_for_stop():
        while (item := _claim_item(job=job, worker=worker)) is not None:
            if stop_requested():
                BatchItem.objects.filter(pk=item.pk, claimed_by=worker).update(
                    claimed_until=None, attempts=F("attempts") - 1
                )
                return batch_job_release(job=job, worker=worker)
            with translation.override(job.language):
                if item.attempts + 1 > settings.BATCH_ITEM_MAX_ATTEMPTS:
                    _fail_item(
                        job=job, item=item, reason=_("This file stopped the worker repeatedly.")
                    )
                else:
                    _classify_item(job=job, item=item)
            # The input is not needed any more (a kept image was re-encoded).
            item.file.delete(save=False)
            BatchItem.objects.filter(pk=item.pk).update(file="", claimed_until=None)
            # Heartbeat: any runner making progress keeps the job's lease.
            BatchJob.objects.filter(pk=job.pk, status=BatchJob.Status.RUNNING).update(
                lease_expires_at=timezone.now() + lease
            )
    # The last runner out closes the job (items others still hold keep it open).
    BatchJob.objects.filter(pk=job.pk, status=BatchJob.Status.RUNNING).exclude(
        items__status=BatchItem.Status.PENDING
    ).update(status=BatchJob.Status.SUCCEEDED, finished_at=timezone.now(), lease_expires_at=None)
    job.refresh_from_db()
    return job


def batch_job_release(*, job: BatchJob, worker: str) -> BatchJob:
    """Hands a job back to the queue (graceful stop); another worker resumes it."""
    with transaction.atomic():
        BatchJob.objects.filter(pk=job.pk, worker=worker).update(
            status=BatchJob.Status.QUEUED, lease_expires_at=None, worker=""
        )
        transaction.on_commit(lambda: batch_job_enqueue(job=job))
    job.refresh_from_db()
    return job


def batch_jobs_sweep() -> dict[str, int]:
    """Re-queues jobs whose worker vanished (lease expired), failing those that
    ran out of attempts; re-sends queued jobs that waited too long."""
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    expired = BatchJob.objects.filter(status=BatchJob.Status.RUNNING, lease_expires_at__lt=now)
    for job in expired:
        with transaction.atomic():
            if job.attempts >= settings.BATCH_MAX_ATTEMPTS:
                updated = BatchJob.objects.filter(pk=job.pk, lease_expires_at__lt=now).update(
                    status=BatchJob.Status.FAILED,
                    finished_at=now,
                    lease_expires_at=None,
                    error=_("The job stopped %(count)d times without finishing.")
                    % {"count": job.attempts},
                )
                counts["failed"] += updated
                continue
            updated = BatchJob.objects.filter(pk=job.pk, lease_expires_at__lt=now).update(
                status=BatchJob.Status.QUEUED, lease_expires_at=None, worker=""
            )
            if updated:
                delay = retry_delay(job.attempts)
                transaction.on_commit(
                    lambda job=job, delay=delay: batch_job_enqueue(job=job, delay=delay)
                )
                counts["requeued"] += 1
    stale = now - timedelta(seconds=3 * settings.BATCH_LEASE_SECONDS)
    for job in BatchJob.objects.filter(status=BatchJob.Status.QUEUED, updated_at__lt=stale):
        # A lost queue message (or a worker that died before claiming): send again.
        BatchJob.objects.filter(pk=job.pk).update(updated_at=now)
        batch_job_enqueue(job=job)
        counts["resent"] += 1
    return counts


def _fail_item(*, job: BatchJob, item: BatchItem, reason: str) -> None:
    with transaction.atomic():
        updated = BatchItem.objects.filter(pk=item.pk, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.FAILED, error=str(reason)[:500]
        )
        if updated:
            BatchJob.objects.filter(pk=job.pk).update(failed=F("failed") + 1)
