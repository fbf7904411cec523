"""Jobs survive their workers: expired leases are re-queued, attempts are
bounded, a poisoned file fails alone, and SIGKILL or SIGTERM lose nothing."""

import signal
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from classification import services
from classification.models import BatchItem, BatchJob, Image, Prediction
from core.jobs import job_claim, jobs_sweep
from tests.classification.images import jpeg
from tests.models_registry.test_worker import DB_BACKEND, start_worker, wait_until, worker_env


def _job(user, version, count=3, size=(320, 240), store=False) -> BatchJob:
    uploads = [services.Upload(name=f"{i:03}.jpg", data=jpeg(*size, seed=i)) for i in range(count)]
    return services.batch_job_create(user=user, uploads=uploads, version=version, store=store)


def _expire(job: BatchJob) -> None:
    BatchJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_sweep_requeues_an_abandoned_job_and_fails_one_out_of_attempts(
    user, imagenet_model, settings, django_capture_on_commit_callbacks
):
    abandoned = _job(user, imagenet_model)
    assert job_claim(job=abandoned, worker="dead")
    _expire(abandoned)
    with django_capture_on_commit_callbacks(execute=True):  # re-enqueued: runs inline here
        counts = jobs_sweep(job_class=BatchJob)
    assert counts["requeued"] == 1
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.done, abandoned.attempts) == ("succeeded", 3, 2)

    hopeless = _job(user, imagenet_model)
    BatchJob.objects.filter(pk=hopeless.pk).update(
        status="running", attempts=settings.BATCH_MAX_ATTEMPTS, worker="dead"
    )
    _expire(hopeless)
    assert jobs_sweep(job_class=BatchJob)["failed"] == 1
    hopeless.refresh_from_db()
    assert hopeless.status == "failed" and "3 times" in hopeless.error


@pytest.mark.django_db
def test_a_file_that_keeps_killing_workers_fails_alone(user, imagenet_model):
    job = _job(user, imagenet_model, count=3)
    BatchItem.objects.filter(job=job, index=1).update(attempts=2)  # died twice on it already
    job = services.batch_job_run(job_id=job.pk)
    assert (job.status, job.done, job.failed) == ("succeeded", 2, 1)
    assert "repeatedly" in BatchItem.objects.get(job=job, index=1).error


@pytest.mark.django_db
def test_queued_jobs_that_waited_too_long_are_sent_again(user, imagenet_model, settings):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    job = _job(user, imagenet_model, count=1)
    BatchJob.objects.filter(pk=job.pk).update(runnable_at=timezone.now() - timedelta(hours=1))
    from django_tasks_db.models import DBTaskResult

    assert jobs_sweep(job_class=BatchJob)["resent"] == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["sigkill", "sigterm"])
def test_a_stopped_worker_loses_no_item_and_duplicates_none(user, imagenet_model, settings, how):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    settings.BATCH_LEASE_SECONDS = 2
    env = {**worker_env(), "DJANGO_BATCH_LEASE_SECONDS": "2"}
    # Kept images: a kill between storing an image and marking its item done
    # must leave neither an orphan image nor a second classification.
    job = _job(user, imagenet_model, count=150, size=(640, 480), store=True)

    first = start_worker("batches", env=env)
    try:
        assert wait_until(lambda: BatchJob.objects.get(pk=job.pk).done >= 10), (
            "the worker never started"
        )
        first.send_signal(signal.SIGKILL if how == "sigkill" else signal.SIGTERM)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    job.refresh_from_db()
    assert job.done < 150, "the batch finished before the worker was stopped"
    if how == "sigterm":
        # Graceful: the job was handed back at once, not after the whole batch.
        assert job.status == "queued" and job.lease_expires_at is None
    else:
        assert job.status == "running"  # the lease still names the dead worker
        time.sleep(2.5)
        call_command("jobs_sweep")

    second = start_worker("batches", env=env)
    try:
        assert wait_until(lambda: BatchJob.objects.get(pk=job.pk).status == "succeeded"), (
            second.stderr.read() if second.poll() is not None else "still running"
        )
    finally:
        second.terminate()
        second.wait(timeout=60)
    job.refresh_from_db()
    assert (job.done, job.failed, job.attempts) == (150, 0, 2)
    assert Prediction.objects.filter(batch_item__job=job).count() == 150
    assert set(BatchItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    assert Prediction.objects.filter(user=user, batch_item__isnull=True).count() == 0
    assert Image.objects.filter(user=user).count() == 150
    assert Image.objects.filter(user=user, prediction__isnull=True).count() == 0


@pytest.mark.django_db
def test_requeued_jobs_wait_longer_each_time(
    user, imagenet_model, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from core.jobs import retry_delay

    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    settings.RETRY_BASE_DELAY, settings.RETRY_MAX_DELAY = 2, 300
    assert [retry_delay(n) for n in (1, 2, 3, 20)] == [2, 4, 8, 300]
    job = _job(user, imagenet_model, count=1)
    DBTaskResult.objects.all().delete()
    BatchJob.objects.filter(pk=job.pk).update(status="running", attempts=2, worker="dead")
    _expire(job)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep(job_class=BatchJob)["requeued"] == 1
    task = DBTaskResult.objects.get()
    wait = (task.run_after - timezone.now()).total_seconds()
    assert 2 < wait <= 4  # the third run waits 4 s, not at once


@pytest.mark.django_db
def test_a_requeued_job_is_not_sent_again_before_its_backoff(
    user, imagenet_model, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    settings.RETRY_BASE_DELAY = settings.RETRY_MAX_DELAY = 300  # longer than 3 leases
    job = _job(user, imagenet_model, count=1)
    BatchJob.objects.filter(pk=job.pk).update(
        status="running", attempts=1, worker="dead", created_at=timezone.now() - timedelta(days=1)
    )
    _expire(job)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep(job_class=BatchJob) == {"requeued": 1, "failed": 0, "resent": 0}
        assert jobs_sweep(job_class=BatchJob)["resent"] == 0  # it waits out its backoff
    assert DBTaskResult.objects.count() == 1
    # Still queued three lease lengths after it could run: the message was lost.
    lease = settings.BATCH_LEASE_SECONDS
    BatchJob.objects.filter(pk=job.pk).update(
        runnable_at=timezone.now() - timedelta(seconds=3 * lease + 1)
    )
    assert jobs_sweep(job_class=BatchJob)["resent"] == 1
    assert DBTaskResult.objects.count() == 2
