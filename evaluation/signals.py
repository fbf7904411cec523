"""Evaluation photos' files leave with their rows (sets deleted, accounts deleted)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from core.models import delete_files_after_commit
from evaluation.models import EvaluationPhoto


@receiver(post_delete, sender=EvaluationPhoto)
def evaluation_photo_file_delete(sender, instance: EvaluationPhoto, **kwargs) -> None:
    delete_files_after_commit(instance.file)
