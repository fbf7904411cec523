from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Custom classifiers")

    def ready(self) -> None:
        from core.jobs import register_metrics
        from training import signals  # noqa: F401
        from training.metrics import TrainingCollector

        register_metrics(TrainingCollector())
