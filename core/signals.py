"""Files that belong to core's abstract models leave with their rows."""

from django.apps import apps
from django.db.models.signals import post_delete

from core.models import UploadedArchive, delete_files_after_commit


def _archive_delete(sender, instance: UploadedArchive, **kwargs) -> None:
    delete_files_after_commit(instance.archive)


def connect() -> None:
    for model in apps.get_models():
        if issubclass(model, UploadedArchive):
            post_delete.connect(_archive_delete, sender=model, dispatch_uid=f"archive-{model}")
