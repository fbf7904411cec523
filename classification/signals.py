"""Stored files leave with their rows, including cascades (account deletion)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from classification.models import BatchItem, Image
from core.models import delete_files_after_commit as _delete_after_commit


@receiver(post_delete, sender=Image)
def image_files_delete(sender, instance: Image, **kwargs) -> None:
    _delete_after_commit(instance.file, instance.thumbnail)


@receiver(post_delete, sender=BatchItem)
def batch_item_file_delete(sender, instance: BatchItem, **kwargs) -> None:
    _delete_after_commit(instance.file)
