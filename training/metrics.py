"""Training runs in /metrics: how many by status, and how long since each
running one's worker last reported in."""

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily


class TrainingCollector:
    def collect(self):
        from training.models import TrainingRun

        runs = GaugeMetricFamily(
            "picsort_training_runs", "Training runs by status.", labels=["status"]
        )
        for row in TrainingRun.objects.values("status").annotate(n=Count("id")):
            runs.add_metric([row["status"]], row["n"])
        yield runs

        heartbeat = GaugeMetricFamily(
            "picsort_training_heartbeat_age_seconds",
            "Seconds since a worker running a training last reported in.",
            labels=["worker"],
        )
        now = timezone.now()
        lease = timezone.timedelta(seconds=settings.TRAINING_LEASE_SECONDS)
        running = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).exclude(worker="")
        for run in running.values("worker", "lease_expires_at"):
            if run["lease_expires_at"]:
                age = (now - (run["lease_expires_at"] - lease)).total_seconds()
                heartbeat.add_metric([run["worker"]], max(0.0, age))
        yield heartbeat
