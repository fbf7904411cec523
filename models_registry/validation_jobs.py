"""Validating an uploaded model is a leased job (``ModelValidation``).

Uploading queues one; a models worker claims it, marks the version
``validating``, runs the checks in the sandbox (``validation.py``) while a
thread keeps the lease, and marks the version ready or failed. A worker killed
half-way leaves an expired lease: the sweep queues the validation again, and
after MODEL_VALIDATION_MAX_ATTEMPTS the version fails with the reason. "Validate
again" works on a failed version and on one whose validation is stuck.
"""

import hashlib
import logging
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.jobs import job_claim, job_finish, lease_kept, worker_name
from models_registry.models import ModelValidation, ModelVersion
from models_registry.services import model_version_mark

logger = logging.getLogger(__name__)


def model_validation_start(*, version: ModelVersion, enqueue: bool = True) -> ModelValidation:
    """Queues a validation of ``version`` (after the transaction commits); the
    one already queued or running, if any. ``enqueue=False``: the caller runs
    it itself."""
    active = version.validations.filter(status__in=ModelValidation.ACTIVE).first()
    if active is not None:
        return active
    try:
        with transaction.atomic():
            job = ModelValidation.objects.create(version=version)
    except IntegrityError:  # started by someone else at the same moment
        return version.validations.get(status__in=ModelValidation.ACTIVE)
    if enqueue:
        transaction.on_commit(job.enqueue)
    return job


def model_version_revalidate(*, version: ModelVersion) -> ModelValidation:
    """Validate again: a failed version, or one whose validation is stuck (its
    worker vanished and the lease expired, or nothing is queued for it)."""
    now = timezone.now()
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == ModelVersion.Status.READY:
            raise ApplicationError(
                _("This version is ready; there is nothing to validate again."),
                code="version_ready",
                status=409,
            )
        active = version.validations.filter(status__in=ModelValidation.ACTIVE).first()
        if active is not None:
            if active.status == ModelValidation.Status.QUEUED:
                return active  # it is waiting for a worker already
            if active.lease_expires_at and active.lease_expires_at > now:
                raise ApplicationError(
                    _("This version is being validated right now."),
                    code="validation_running",
                    status=409,
                )
            job_finish(
                job=active,
                status=ModelValidation.Status.FAILED,
                error=_("Its worker stopped answering; validated again."),
            )
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.UPLOADED, error="", progress={}
        )
        version.refresh_from_db()
        return model_validation_start(version=version)


def _local_copy(version: ModelVersion, workdir: str) -> Path:
    """The stored file in a local folder, checked against its checksum."""
    from models_registry.validation import ValidationFailed

    local = Path(workdir) / f"model.{version.format}"
    digest = hashlib.sha256()
    with version.file.open("rb") as source, open(local, "wb") as target:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(chunk)
            target.write(chunk)
    if digest.hexdigest() != version.sha256:
        raise ValidationFailed(_("The stored file does not match its checksum."))
    return local


class _LeaseLost(Exception):
    """Another worker holds this validation now: stop without writing anything."""


def _validate(version: ModelVersion, lost):
    """The checks themselves; a readable reason (``ValidationFailed``) or a
    Result. Stops (``_LeaseLost``) as soon as the lease is lost."""
    from models_registry.validation import ValidationFailed, validate_and_convert

    def progress(step: str) -> None:
        ModelVersion.objects.filter(pk=version.pk).update(progress={"step": step})

    def tick() -> None:
        if lost.is_set():
            raise _LeaseLost()

    num_labels = version.label_set.labels.count()
    with tempfile.TemporaryDirectory(prefix="model-") as workdir:
        try:
            local = _local_copy(version, workdir)
            result = validate_and_convert(
                model_path=local,
                num_labels=num_labels,
                model_format=version.format,
                preprocessing={**version.preprocessing, "size": version.preprocessing.get("size")},
                progress=progress,
                tick=tick,
            )
        except (ValidationFailed, _LeaseLost):
            raise
        except Exception as error:  # a bug or a resource limit: fail, never hang
            logger.exception("model version %s: unexpected validation error", version.pk)
            raise ValidationFailed(
                _("An unexpected error stopped the validation (%(error)s).")
                % {"error": type(error).__name__}
            ) from error
    progress("int8")
    result.int8 = _int8(version, result, tick)
    return result


def _int8(version: ModelVersion, result, tick):
    """The int8 variant and its gate; whatever happens to it, the fp32 model
    stands (only a lost lease stops the validation)."""
    from core.images import Preprocessing
    from models_registry.int8 import Int8Build, int8_build, labelled_photos_for

    version.input_size = result.input_size  # as validated; saved with the result
    try:
        return int8_build(
            onnx=result.onnx,
            spec=Preprocessing.from_spec(version.preprocessing, size=result.input_size),
            output=result.output,
            labelled=labelled_photos_for(version),
            tick=tick,
        )
    except _LeaseLost:
        raise
    except Exception as error:
        logger.exception("model version %s: the int8 variant could not be built", version.pk)
        return Int8Build(None, {"passed": False, "reason": "error", "error": type(error).__name__})


def _ready(version: ModelVersion, result) -> None:
    version.refresh_from_db()
    version.onnx_file.save("model.onnx", ContentFile(result.onnx), save=False)
    try:
        model_version_mark(
            version=version,
            status=ModelVersion.Status.READY,
            onnx_sha256=hashlib.sha256(result.onnx).hexdigest(),
            input_size=result.input_size,
            # A model ending in softmax answers probabilities: never softmax twice.
            preprocessing={**version.preprocessing, "output": result.output},
            metrics={**version.metrics, **result.metrics},
            progress={"step": "done"},
            error="",
        )
    except BaseException:
        version.onnx_file.delete(save=False)  # no orphan artefact
        raise
    if result.int8 is not None:
        from models_registry.int8 import model_version_int8_store

        try:
            model_version_int8_store(version=version, build=result.int8)
        except Exception:  # the fp32 version is ready; it is served without int8
            logger.exception("model version %s: the int8 variant could not be saved", version.pk)


def model_validation_run(*, validation_id: int, worker: str | None = None) -> ModelVersion | None:
    """The worker's job. Idempotent: a finished or leased validation is left
    alone. The version is decided before the job is finished, so a version is
    never left "validating" with no job to recover it."""
    from models_registry.validation import ValidationFailed

    worker = worker or worker_name()
    job = ModelValidation.objects.select_related("version__label_set").filter(pk=validation_id)
    job = job.first()
    if job is None or not job_claim(job=job, worker=worker):
        return None
    version = job.version
    if version.status in (ModelVersion.Status.READY, ModelVersion.Status.FAILED):
        job_finish(job=job, worker=worker, status=ModelValidation.Status.SUCCEEDED)
        return version  # already decided: a re-delivered task changes nothing
    if version.status == ModelVersion.Status.UPLOADED:
        model_version_mark(
            version=version, status=ModelVersion.Status.VALIDATING, progress={"step": "start"}
        )
    with lease_kept(job=job, worker=worker) as lost:
        try:
            result, reason = _validate(version, lost), ""
        except ValidationFailed as error:
            logger.info("model version %s failed validation: %s", version.pk, error)
            result, reason = None, str(error)
        except _LeaseLost:
            logger.warning("model version %s: lease lost, validation stopped", version.pk)
            return None
    if result is not None:
        try:
            _ready(version, result)
        except Exception as error:
            logger.exception("model version %s: the result could not be saved", version.pk)
            reason = _("The validated model could not be saved (%(error)s).") % {
                "error": type(error).__name__
            }
        else:
            job_finish(job=job, worker=worker, status=ModelValidation.Status.SUCCEEDED)
    if reason:
        # The job's end fails the version too (ModelValidation.on_finished), after
        # the commit; this also does it at once for a caller that waits.
        ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.VALIDATING).update(
            status=ModelVersion.Status.FAILED, error=reason, progress={"step": "failed"}
        )
        job_finish(job=job, worker=worker, status=ModelValidation.Status.FAILED, error=reason)
    version.refresh_from_db()
    return version


def model_version_validate(*, version_id: int) -> ModelVersion:
    """Validates a version now, in this process (management commands, tests):
    the same job a worker would run."""
    version = ModelVersion.objects.get(pk=version_id)
    if version.status in (ModelVersion.Status.READY, ModelVersion.Status.FAILED):
        return version
    job = model_validation_start(version=version, enqueue=False)
    return model_validation_run(validation_id=job.pk) or ModelVersion.objects.get(pk=version_id)
