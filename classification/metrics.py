"""Classifications in /metrics (registered with core from
``ClassificationConfig.ready``): stored classifications by model. Batch jobs
are counted with every other job by ``core.metrics.JobsCollector``."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

OWN_CLASSIFIERS = "users' own classifiers"


class ClassificationCollector:
    def collect(self):
        from classification.models import Prediction

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
