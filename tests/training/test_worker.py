"""Training runs in a real worker process (``db_worker`` on the training
queue), and a worker killed mid-run loses nothing: the sweep hands the run to
another worker, which finishes it; it is never left "running"."""

import signal
import time

import pytest
from django.core.management import call_command

from core.jobs import jobs_sweep
from tests.models_registry.test_worker import (
    DB_BACKEND,
    run_worker,
    start_worker,
    wait_until,
    worker_env,
)
from training import services
from training.models import TrainingRun

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate) -> bool:
    return wait_until(predicate, seconds=180)


def _start(classifier, user, settings) -> TrainingRun:
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "training"]}}
    run, created = services.training_start(classifier=classifier, user=user)
    assert created
    return run


def test_a_worker_process_trains_the_classifier(textures, user, settings):
    run = _start(textures, user, settings)
    result = run_worker("training")
    assert result.returncode == 0, result.stderr[-3000:]
    run.refresh_from_db()
    assert run.status == "succeeded", (run.error, result.stderr[-3000:])
    assert run.model_version.is_ready and run.attempts == 1
    textures.refresh_from_db()
    assert textures.active_version == run.model_version


def test_a_killed_worker_loses_no_training(textures, user, settings):
    run = _start(textures, user, settings)
    settings.TRAINING_LEASE_SECONDS = 2
    # Many epochs, so the kill lands mid-training; the lease expires quickly.
    env = {
        **worker_env(),
        "DJANGO_TRAINING_LEASE_SECONDS": "2",
        "DJANGO_TRAINING_MAX_EPOCHS": "100000",
    }
    first = start_worker("training", env=env)
    try:
        assert _wait(lambda: TrainingRun.objects.get(pk=run.pk).phase == "training"), (
            "the worker never started training"
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    run.refresh_from_db()
    assert run.status == "running"  # the lease still names the dead worker
    time.sleep(2.5)
    call_command("jobs_sweep")
    run.refresh_from_db()
    assert run.status == "queued"

    second = start_worker("training", env={**worker_env(), "DJANGO_TRAINING_MAX_EPOCHS": "60"})
    try:
        assert _wait(lambda: TrainingRun.objects.get(pk=run.pk).status == "succeeded"), (
            second.stderr.read() if second.poll() is not None else "still running"
        )
    finally:
        second.terminate()
        second.wait(timeout=60)
    run.refresh_from_db()
    assert run.attempts == 2 and run.model_version is not None
    assert TrainingRun.objects.filter(classifier=textures).count() == 1


def test_sigterm_hands_the_run_back_and_out_of_attempts_fails_with_a_reason(
    textures, user, settings
):
    run = _start(textures, user, settings)
    env = {**worker_env(), "DJANGO_TRAINING_MAX_EPOCHS": "100000"}
    worker = start_worker("training", env=env)
    try:
        assert _wait(lambda: TrainingRun.objects.get(pk=run.pk).phase == "training")
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    run.refresh_from_db()
    assert run.status == "queued" and run.lease_expires_at is None and run.worker == ""

    # A run whose workers keep vanishing ends failed, with the reason, not stuck.
    from datetime import timedelta

    from django.utils import timezone

    settings.TRAINING_MAX_ATTEMPTS = 2
    TrainingRun.objects.filter(pk=run.pk).update(
        status="running", attempts=2, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert jobs_sweep(job_class=TrainingRun) == {"requeued": 0, "failed": 1, "resent": 0}
    run.refresh_from_db()
    assert run.status == "failed" and "2 times" in run.error
