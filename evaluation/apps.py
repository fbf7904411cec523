from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Model evaluation")

    def ready(self) -> None:
        from evaluation import signals  # noqa: F401
        from evaluation.int8_photos import evaluation_photos_for_int8
        from models_registry.int8 import labelled_photos_source_register

        labelled_photos_source_register(evaluation_photos_for_int8)
