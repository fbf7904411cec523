from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassificationConfig(AppConfig):
    name = "classification"
    verbose_name = _("Classification")

    def ready(self) -> None:
        from classification import signals  # noqa: F401
        from classification.health import default_model_check
        from classification.metrics import ClassificationCollector
        from core.health import register_readiness_check
        from core.jobs import register_metrics

        register_metrics(ClassificationCollector())
        register_readiness_check("model", default_model_check)
