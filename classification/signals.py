"""Stored files leave with their rows, including cascades (account deletion)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from classification.models import BatchJob, Image, Prediction
from core.models import delete_files_after_commit as _delete_after_commit
from models_registry.models import ModelVersion
from models_registry.signals import owned_version_deleting


@receiver(post_delete, sender=Image)
def image_files_delete(sender, instance: Image, **kwargs) -> None:
    _delete_after_commit(instance.file, instance.thumbnail)


@receiver(owned_version_deleting)
def own_model_results_delete(sender, version: ModelVersion, **kwargs) -> None:
    """A user's own classifier is deleted with what it produced: that user's
    classifications and batches made with it (shared versions are never deleted
    while anything refers to them)."""
    Image.objects.filter(prediction__model_version=version).delete()
    Prediction.objects.filter(model_version=version).delete()
    BatchJob.objects.filter(model_version=version).delete()
