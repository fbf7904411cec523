from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassificationConfig(AppConfig):
    name = "classification"
    verbose_name = _("Classification")

    def ready(self) -> None:
        from classification import signals  # noqa: F401
        from classification.services import batch_jobs_sweep
        from core.jobs import register_sweep

        register_sweep("batches", batch_jobs_sweep)
