"""Prometheus metrics at /metrics.

Counts that live in the database (jobs, queue depth and age, predictions by
model, worker heartbeats) are read at scrape time, so every web process
reports the same numbers. Request latency is measured per process; with
several gunicorn workers set PROMETHEUS_MULTIPROC_DIR to add them up.

The endpoint answers only to ``Authorization: Bearer <DJANGO_METRICS_TOKEN>``
(or to staff); without a configured token it does not exist (404).
"""

import hmac
import os
import time

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

REQUEST_LATENCY = Histogram(
    "picsort_http_request_duration_seconds",
    "Time to answer an HTTP request, by view and method.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DatabaseCollector:
    """Numbers read from the database at each scrape."""

    def collect(self):
        from django_tasks_db.models import DBTaskResult

        from classification.models import BatchJob, Prediction

        now = timezone.now()
        jobs = GaugeMetricFamily("picsort_batch_jobs", "Batch jobs by status.", labels=["status"])
        for row in BatchJob.objects.values("status").annotate(n=Count("id")):
            jobs.add_metric([row["status"]], row["n"])
        yield jobs

        depth = GaugeMetricFamily(
            "picsort_task_queue_depth", "Tasks waiting, by queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "picsort_task_queue_oldest_seconds", "Age of the oldest waiting task.", labels=["queue"]
        )
        waiting = DBTaskResult.objects.filter(status="READY").values("queue_name")
        for row in waiting.annotate(n=Count("id"), oldest=Min("enqueued_at")):
            depth.add_metric([row["queue_name"]], row["n"])
            age.add_metric([row["queue_name"]], (now - row["oldest"]).total_seconds())
        yield depth
        yield age

        predictions = GaugeMetricFamily(
            "picsort_predictions", "Stored classifications, by model version.", labels=["model"]
        )
        by_model = Prediction.objects.values("model_version__name", "model_version__version")
        for row in by_model.annotate(n=Count("id")):
            label = f"{row['model_version__name']} v{row['model_version__version']}"
            predictions.add_metric([label], row["n"])
        yield predictions

        heartbeat = GaugeMetricFamily(
            "picsort_worker_heartbeat_age_seconds",
            "Seconds since a worker running a batch last renewed its lease.",
            labels=["worker"],
        )
        lease = settings.BATCH_LEASE_SECONDS
        running = BatchJob.objects.filter(status=BatchJob.Status.RUNNING).exclude(worker="")
        for job in running.values("worker", "lease_expires_at"):
            if job["lease_expires_at"]:
                renewed = job["lease_expires_at"] - timezone.timedelta(seconds=lease)
                heartbeat.add_metric([job["worker"]], max(0.0, (now - renewed).total_seconds()))
        yield heartbeat


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(DatabaseCollector())
    from core.jobs import metric_collectors

    for collector in metric_collectors():  # other apps' jobs (training runs)
        registry.register(collector)
    return registry


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return bool(token) and request.user.is_authenticated and request.user.is_staff


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class RequestLatencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match and match.view_name else "unmatched"
        REQUEST_LATENCY.labels(view, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
