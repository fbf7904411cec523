"""Prometheus metrics at /metrics, for the whole project.

Request latency is measured in each process by ``RequestLatencyMiddleware``.
Under gunicorn, ``config/gunicorn.py`` gives every worker one fresh
``PROMETHEUS_MULTIPROC_DIR``; the workers write their numbers there and any of
them answers a scrape with the sum over all (a dead worker's counts stay).
Counts that live in the database are read at scrape time by collectors: the
task queue here, and the apps' own jobs, registered with
``core.jobs.register_metrics`` from their ``AppConfig.ready``.

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

from core.jobs import metric_collectors

REQUEST_LATENCY = Histogram(
    "picsort_http_request_duration_seconds",
    "Time to answer an HTTP request, by view and method.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class TaskQueueCollector:
    """Depth and age of the database task queue, read at each scrape."""

    def collect(self):
        from django_tasks_db.models import DBTaskResult

        now = timezone.now()
        depth = GaugeMetricFamily(
            "picsort_task_queue_depth", "Tasks waiting, by queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "picsort_task_queue_oldest_seconds", "Age of the oldest waiting task.", labels=["queue"]
        )
        # Every queue, empty ones at 0: the worker autoscalers read this series
        # and hold still (rather than scale down) while it is missing.
        counts = dict.fromkeys(settings.TASKS["default"].get("QUEUES", []), 0)
        waiting = DBTaskResult.objects.filter(status="READY").values("queue_name")
        for row in waiting.annotate(n=Count("id"), oldest=Min("enqueued_at")):
            counts[row["queue_name"]] = row["n"]
            age.add_metric([row["queue_name"]], (now - row["oldest"]).total_seconds())
        for queue, count in counts.items():
            depth.add_metric([queue], count)
        yield depth
        yield age


class JobsCollector:
    """Every kind of background job (each ``LeasedJob`` model): how many by
    status, and how long since each running one's worker last renewed its
    lease (a stuck worker shows as a growing age)."""

    def collect(self):
        from django.db.models import Count

        from core.jobs import leased_job_models

        now = timezone.now()
        jobs = GaugeMetricFamily(
            "picsort_jobs", "Background jobs by kind and status.", labels=["kind", "status"]
        )
        heartbeat = GaugeMetricFamily(
            "picsort_job_heartbeat_age_seconds",
            "Seconds since the worker running a job last renewed its lease.",
            labels=["kind", "worker"],
        )
        for model in leased_job_models():
            kind = model._meta.model_name
            for row in model.objects.values("status").annotate(n=Count("id")):
                jobs.add_metric([kind, row["status"]], row["n"])
            lease = model.lease_length()
            running = model.objects.filter(status=model.Status.RUNNING).exclude(worker="")
            for job in running.values("worker", "lease_expires_at"):
                if job["lease_expires_at"]:
                    age = (now - (job["lease_expires_at"] - lease)).total_seconds()
                    heartbeat.add_metric([kind, job["worker"]], max(0.0, age))
        yield jobs
        yield heartbeat


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prometheus_client's own switch
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(TaskQueueCollector())
    registry.register(JobsCollector())
    for collector in metric_collectors():
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
