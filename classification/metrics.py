"""Batches and classifications in /metrics (registered with core from
``ClassificationConfig.ready``): batch jobs by status, stored classifications
by model, and how long since each running batch's worker last reported in."""

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

OWN_CLASSIFIERS = "users' own classifiers"


class ClassificationCollector:
    def collect(self):
        from classification.models import BatchJob, Prediction

        jobs = GaugeMetricFamily("picsort_batch_jobs", "Batch jobs by status.", labels=["status"])
        for row in BatchJob.objects.values("status").annotate(n=Count("id")):
            jobs.add_metric([row["status"]], row["n"])
        yield jobs

        predictions = GaugeMetricFamily(
            "picsort_predictions",
            "Stored classifications, by shared model version; users' own classifiers "
            "(private, their names included) are counted together.",
            labels=["model"],
        )
        shared = Prediction.objects.filter(model_version__owner__isnull=True)
        by_model = shared.values("model_version__name", "model_version__version")
        for row in by_model.annotate(n=Count("id")):
            label = f"{row['model_version__name']} v{row['model_version__version']}"
            predictions.add_metric([label], row["n"])
        own = Prediction.objects.filter(model_version__owner__isnull=False).count()
        predictions.add_metric([OWN_CLASSIFIERS], own)
        yield predictions

        heartbeat = GaugeMetricFamily(
            "picsort_worker_heartbeat_age_seconds",
            "Seconds since a worker running a batch last renewed its lease.",
            labels=["worker"],
        )
        now = timezone.now()
        lease = timezone.timedelta(seconds=settings.BATCH_LEASE_SECONDS)
        running = BatchJob.objects.filter(status=BatchJob.Status.RUNNING).exclude(worker="")
        for job in running.values("worker", "lease_expires_at"):
            if job["lease_expires_at"]:
                age = (now - (job["lease_expires_at"] - lease)).total_seconds()
                heartbeat.add_metric([job["worker"]], max(0.0, age))
        yield heartbeat
