"""Housekeeping: old task results and files no row refers to any more."""

import time
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand


def _walk(storage, folder: str):
    try:
        dirs, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield str(PurePosixPath(folder) / name)
    for name in dirs:
        yield from _walk(storage, str(PurePosixPath(folder) / name))


class Command(BaseCommand):
    help = (
        "Delete finished task results older than --days, and media files that no "
        "image, job, example or model version refers to (older than an hour)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=14)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, days: int, dry_run: bool, **options):
        from django.tasks import task_backends
        from django_tasks_db.backend import DatabaseBackend

        from classification.models import Image
        from core.jobs import leased_job_models
        from core.models import UploadedArchive
        from models_registry.models import ModelVersion
        from training.models import Example

        if isinstance(task_backends["default"], DatabaseBackend):
            extra = ["--dry-run"] if dry_run else []
            call_command(
                "prune_db_task_results",
                *["--queue-name", "*", "--min-age-days", str(days), *extra],
                stdout=self.stdout,
            )
        referenced = set()
        for image in Image.objects.values_list("file", "thumbnail"):
            referenced.update(image)
        for model in leased_job_models():  # the uploads of jobs still to run
            if issubclass(model, UploadedArchive):
                waiting = model.objects.filter(status__in=model.ACTIVE).exclude(archive="")
                referenced.update(waiting.values_list("archive", flat=True))
        for files in ModelVersion.objects.values_list("file", "onnx_file"):
            referenced.update(files)
        referenced.update(Example.objects.values_list("file", flat=True))
        cutoff = time.time() - 3600  # files younger than this may belong to a running upload
        removed = 0
        for folder in ("images", "batches", "uploads", "models", "examples"):
            for name in _walk(default_storage, folder):
                if name in referenced:
                    continue
                if default_storage.get_modified_time(name).timestamp() > cutoff:
                    continue
                removed += 1
                if not dry_run:
                    default_storage.delete(name)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {removed} unreferenced media file(s)")
