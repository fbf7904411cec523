"""Validation is a leased job: a models worker killed half-way never leaves a
version "validating" forever. The sweep runs it again, "Validate again" works
on a stuck version, and a validation that keeps dying fails with a reason."""

import signal
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from core.exceptions import ApplicationError
from core.jobs import jobs_sweep
from models_registry import services
from models_registry.models import ModelValidation, ModelVersion
from models_registry.validation_jobs import model_version_revalidate
from tests.models_registry.factories import LabelSetFactory
from tests.models_registry.keras_files import tiny_model
from tests.models_registry.test_worker import (
    DB_BACKEND,
    run_worker,
    start_worker,
    wait_until,
    worker_env,
)


def _upload(tmp_path) -> ModelVersion:
    path = tiny_model(tmp_path / "tiny.keras")
    return services.model_version_upload(
        name="killed",
        file=ContentFile(path.read_bytes(), name="tiny.keras"),
        label_set=LabelSetFactory(),
    )


def _kill_while_validating(version: ModelVersion, env: dict) -> None:
    worker = start_worker("models", env=env)
    try:
        assert wait_until(
            lambda: ModelVersion.objects.get(pk=version.pk).status == "validating", seconds=120
        ), worker.stderr.read() if worker.poll() is not None else "not validating"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()


def _expire(version: ModelVersion) -> None:
    version.validations.filter(status="running").update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db(transaction=True)
def test_a_killed_validation_is_run_again_by_the_sweep(tmp_path, settings):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "models"]}}
    settings.RETRY_BASE_DELAY = 0
    version = _upload(tmp_path)
    _kill_while_validating(version, worker_env())

    version.refresh_from_db()
    job = version.validations.get()
    assert (version.status, job.status, job.attempts) == ("validating", "running", 1)
    # While its lease runs, "Validate again" says it is being validated.
    with pytest.raises(ApplicationError) as error:
        model_version_revalidate(version=version)
    assert error.value.code == "validation_running"

    _expire(version)
    call_command("jobs_sweep")
    job.refresh_from_db()
    assert job.status == "queued"
    result = run_worker("models")
    assert result.returncode == 0, result.stderr[-3000:]
    version.refresh_from_db()
    job.refresh_from_db()
    assert version.status == "ready", (version.error, result.stderr[-3000:])
    assert (job.status, job.attempts) == ("succeeded", 2)


@pytest.mark.django_db(transaction=True)
def test_validate_again_works_on_a_stuck_version(tmp_path, settings):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "models"]}}
    version = _upload(tmp_path)
    _kill_while_validating(version, worker_env())
    _expire(version)  # no sweeper is running: the version looks stuck

    again = model_version_revalidate(version=version)
    assert again.status == "queued" and again.pk != version.validations.last().pk
    assert version.validations.get(status="failed").error  # the dead one, with a reason
    result = run_worker("models")
    assert result.returncode == 0, result.stderr[-3000:]
    version.refresh_from_db()
    assert version.status == "ready", version.error


@pytest.mark.django_db
def test_a_validation_that_keeps_dying_fails_its_version_with_a_reason(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    version = services.model_version_upload(
        name="dies",
        file=ContentFile(tiny_model(tmp_path / "t.keras").read_bytes(), name="t.keras"),
        label_set=LabelSetFactory(),
        enqueue=False,
    )
    job = ModelValidation.objects.create(
        version=version,
        status="running",
        attempts=settings.MODEL_VALIDATION_MAX_ATTEMPTS,
        worker="dead",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    ModelVersion.objects.filter(pk=version.pk).update(status="validating")
    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs_sweep(job_class=ModelValidation)
    assert counts["failed"] == 1
    job.refresh_from_db()
    version.refresh_from_db()
    assert job.status == "failed" and "2 times" in job.error
    assert version.status == "failed" and version.error == job.error
    # A failed version can be validated again: a new job is queued.
    assert model_version_revalidate(version=version).status == "queued"


@pytest.mark.django_db(transaction=True)
def test_a_refused_model_fails_its_version_once_without_an_error(tmp_path):
    """Run for real (callbacks after each commit, as in a worker): the job's end
    and the run both fail the version, once, and the task itself succeeds."""
    from models_registry.validation_jobs import model_version_validate

    path = tiny_model(tmp_path / "tiny.keras")
    version = services.model_version_upload(
        name="refused",
        file=ContentFile(path.read_bytes(), name="tiny.keras"),
        label_set=LabelSetFactory(classes=("a", "b", "c", "d")),  # the model has 3 outputs
        enqueue=False,
    )
    version = model_version_validate(version_id=version.pk)
    assert version.status == "failed" and "outputs" in version.error
    job = version.validations.get()
    assert (job.status, job.error) == ("failed", version.error)
