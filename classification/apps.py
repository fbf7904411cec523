from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassificationConfig(AppConfig):
    name = "classification"
    verbose_name = _("Classification")

    def ready(self) -> None:
        from classification import signals  # noqa: F401
        from classification.health import default_model_check
        from classification.metrics import ClassificationCollector
        from classification.services import batch_jobs_sweep
        from core.health import register_readiness_check
        from core.jobs import register_metrics, register_sweep

        register_sweep("batches", batch_jobs_sweep)
        register_metrics(ClassificationCollector())
        register_readiness_check("model", default_model_check)
