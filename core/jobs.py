"""The leased-job kernel, and what apps register with it.

Every kind of background job (batches, training runs, model validations...)
is a ``core.models.LeasedJob`` row; the functions here claim, renew, release,
finish and sweep any of them, so each app keeps only its own steps:

    if not job_claim(job=job, worker=worker):       # queued, or its lease expired
        return
    while work_left():
        ...
        if not job_heartbeat(job=job, worker=worker, percent=p):
            return                                    # the lease went to someone else
    job_finish(job=job, worker=worker, status=Job.Status.SUCCEEDED)

``jobs_sweep`` (``manage.py jobs_sweep``) recovers every LeasedJob model: an
expired lease is queued again after a backoff, or given up; a queued job whose
message was lost is sent again. Apps register the metrics they own from
``AppConfig.ready``, which keeps ``core`` free of app imports.
"""

import os
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone, translation

_metric_collectors: list = []


def worker_name() -> str:
    """This process, as recorded on the jobs it holds."""
    return f"{os.uname().nodename}:{os.getpid()}"


# The kernel
# ------------------------------------------------------------------------------


def job_claim(*, job, worker: str, extra: Q | None = None) -> bool:
    """Takes the job's lease if it is queued, or running with an expired lease."""
    now = timezone.now()
    claimed = (
        type(job)
        .objects.filter(
            Q(status=job.Status.QUEUED) | Q(status=job.Status.RUNNING, lease_expires_at__lt=now),
            extra or Q(),
            pk=job.pk,
        )
        .update(
            status=job.Status.RUNNING,
            worker=worker,
            lease_expires_at=now + job.lease_length(),
            attempts=F("attempts") + 1,
            started_at=now,
            updated_at=now,
        )
    )
    if claimed:
        job.refresh_from_db(fields=[*_LEASE_FIELDS, "started_at"])
    return claimed == 1


_LEASE_FIELDS = ["status", "worker", "lease_expires_at", "attempts"]


def job_heartbeat(*, job, worker: str | None = None, **fields) -> bool:
    """Renews the lease (and writes ``fields``, e.g. progress). False when the
    job is no longer running under this worker: the caller must stop."""
    running = type(job).objects.filter(pk=job.pk, status=job.Status.RUNNING)
    if worker is not None:
        running = running.filter(worker=worker)
    now = timezone.now()
    return running.update(lease_expires_at=now + job.lease_length(), updated_at=now, **fields) == 1


@contextmanager
def lease_kept(*, job, worker: str):
    """Renews the job's lease from a thread every third of its length while a
    long step runs (a subprocess, say) that cannot call ``job_heartbeat``
    itself. Yields an event that is set if the lease was lost meanwhile."""
    lost, stop = threading.Event(), threading.Event()
    every = max(0.5, job.lease_length().total_seconds() / 3)

    def renew() -> None:
        try:
            while not stop.wait(every):
                try:
                    renewed = job_heartbeat(job=job, worker=worker)
                except DatabaseError:
                    continue  # the database is away for a moment: try again later
                if not renewed:
                    lost.set()
                    return
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=renew, name=f"lease-{job.pk}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join()


def job_release(*, job, worker: str, delay: float = 0, **fields) -> bool:
    """Hands a running job back to the queue (graceful stop, or a retry after
    ``delay`` seconds); another worker resumes it."""
    now = timezone.now()
    with transaction.atomic():
        released = (
            type(job)
            .objects.filter(pk=job.pk, worker=worker, status=job.Status.RUNNING)
            .update(
                status=job.Status.QUEUED,
                worker="",
                lease_expires_at=None,
                runnable_at=now + timedelta(seconds=delay),
                updated_at=now,
                **fields,
            )
        )
        if released:
            transaction.on_commit(lambda: job.enqueue(delay=delay))
    return released == 1


def job_finish(*, job, status: str, worker: str | None = None, **fields) -> bool:
    """Ends an active job once (by its worker, when given); True if this call
    ended it. The job's ``on_finished`` runs after the commit."""
    active = type(job).objects.filter(pk=job.pk, status__in=job.ACTIVE)
    if worker is not None:
        active = active.filter(worker=worker)
    now = timezone.now()
    with transaction.atomic():
        ended = active.update(
            status=status, finished_at=now, lease_expires_at=None, updated_at=now, **fields
        )
        if ended:
            transaction.on_commit(lambda: _finished(job))
    return ended == 1


# Sent once a job has ended by any path, after its ``on_finished`` (webhooks
# listen: ``LeasedJob.webhook_events``).
job_ended = Signal()


def _finished(job) -> None:
    job.refresh_from_db()
    job.on_finished()
    job_ended.send(sender=type(job), job=job)


def retry_delay(attempts: int, *, base: float | None = None, cap: float | None = None) -> float:
    """Backoff before a job whose worker vanished runs again: 2, 4, 8... seconds,
    at most RETRY_MAX_DELAY, so a job that crashes workers cannot hammer them.
    Jobs with their own pace (webhook deliveries) pass ``base`` and ``cap``."""
    base = settings.RETRY_BASE_DELAY if base is None else base
    cap = settings.RETRY_MAX_DELAY if cap is None else cap
    return float(min(base * 2 ** max(0, attempts - 1), cap))


def enqueue_later(task, *args, delay: float = 0) -> None:
    """``task.enqueue(*args)``, not to run before ``delay`` seconds from now when
    the backend can defer (the database queue can; the inline test backend runs
    at once)."""
    if delay and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
    task.enqueue(*args)


def jobs_sweep(*, job_class) -> dict[str, int]:
    """Recovers one kind of job: expired leases are queued again after a backoff
    or given up (``LeasedJob.give_up``); queued jobs still waiting three lease
    lengths after they could run (``runnable_at``, past any backoff) are sent
    again (a lost queue message, or a worker that died before claiming)."""
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    for job in job_class.objects.filter(status=job_class.Status.RUNNING, lease_expires_at__lt=now):
        stale = job_class.objects.filter(
            pk=job.pk, status=job.Status.RUNNING, lease_expires_at__lt=now
        )
        with translation.override(getattr(job, "language", None) or settings.LANGUAGE_CODE):
            ending = job.give_up()
        if ending is not None:
            with transaction.atomic():
                if stale.update(finished_at=now, lease_expires_at=None, updated_at=now, **ending):
                    transaction.on_commit(lambda job=job: _finished(job))
                    counts["failed"] += 1
            continue
        delay = retry_delay(job.attempts)
        with transaction.atomic():
            if stale.update(
                status=job.Status.QUEUED,
                lease_expires_at=None,
                worker="",
                runnable_at=now + timedelta(seconds=delay),
                updated_at=now,
            ):
                transaction.on_commit(lambda job=job, delay=delay: job.enqueue(delay=delay))
                counts["requeued"] += 1
    waited = now - 3 * job_class.lease_length()
    for job in job_class.objects.filter(status=job_class.Status.QUEUED, runnable_at__lt=waited):
        if job_class.objects.filter(pk=job.pk, runnable_at=job.runnable_at).update(
            runnable_at=now, updated_at=now
        ):
            job.enqueue()
            counts["resent"] += 1
    return counts


def leased_job_models() -> list:
    from core.models import LeasedJob

    return [model for model in apps.get_models() if issubclass(model, LeasedJob)]


# What apps register
# ------------------------------------------------------------------------------


def sweep_all() -> dict[str, int]:
    counts = {}
    sweeps = {
        model._meta.label_lower: (lambda m=model: jobs_sweep(job_class=m))
        for model in leased_job_models()
    }
    for name, sweep in sweeps.items():
        counts.update({f"{name} {key}": value for key, value in sweep().items()})
    return counts


def register_metrics(collector) -> None:
    """A Prometheus collector (``collect()`` yielding metric families) that
    ``/metrics`` reads at every scrape, for jobs an app owns."""
    _metric_collectors.append(collector)


def metric_collectors() -> list:
    return list(_metric_collectors)
