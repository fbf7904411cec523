"""Stored files leave with their rows, including cascades (account deletion)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from classification.models import BatchItem, Image


def _delete_after_commit(*files) -> None:
    for field in files:
        if field and field.name:
            storage, name = field.storage, field.name
            transaction.on_commit(lambda s=storage, n=name: s.delete(n))


@receiver(post_delete, sender=Image)
def image_files_delete(sender, instance: Image, **kwargs) -> None:
    _delete_after_commit(instance.file, instance.thumbnail)


@receiver(post_delete, sender=BatchItem)
def batch_item_file_delete(sender, instance: BatchItem, **kwargs) -> None:
    _delete_after_commit(instance.file)
