"""Examples' files, and the files of a user's own trained models, leave with
their rows (also when a whole account is deleted)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from core.models import delete_files_after_commit
from models_registry.models import ModelVersion
from training.models import Example


@receiver(post_delete, sender=Example)
def example_file_delete(sender, instance: Example, **kwargs) -> None:
    delete_files_after_commit(instance.file)


@receiver(post_delete, sender=ModelVersion)
def owned_model_files_delete(sender, instance: ModelVersion, **kwargs) -> None:
    # Shared versions are never deleted (and a grouping shares its base's files).
    if instance.owner_id is not None and instance.source == ModelVersion.Source.TRAINING:
        delete_files_after_commit(instance.file, instance.onnx_file)
