"""Batch items that still wait with a file of their own (stored one by one, as
before) are packed into their job's one archive, and their files removed.
Backwards: each waiting item gets its own file again."""

import io
import uuid
import zipfile

from django.core.files.base import ContentFile
from django.db import migrations


def pack(apps, schema_editor):
    BatchJob = apps.get_model("classification", "BatchJob")
    BatchItem = apps.get_model("classification", "BatchItem")
    waiting = BatchItem.objects.filter(status="pending").exclude(file="")
    for job in BatchJob.objects.filter(pk__in=waiting.values("job_id")):
        buffer = io.BytesIO()
        items = list(waiting.filter(job=job).order_by("index"))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for item in items:
                try:
                    with item.file.open("rb") as handle:
                        archive.writestr(f"{item.index:05d}", handle.read())
                except OSError:
                    continue  # lost already: the worker will say the input is missing
                item.member = f"{item.index:05d}"
        job.archive.save(f"uploads/{uuid.uuid4().hex}.zip", ContentFile(buffer.getvalue()))
        job.archive_bytes = buffer.tell()
        job.save(update_fields=["archive", "archive_bytes"])
        for item in items:
            item.file.delete(save=False)
            item.save(update_fields=["member", "file"])


def unpack(apps, schema_editor):
    BatchJob = apps.get_model("classification", "BatchJob")
    BatchItem = apps.get_model("classification", "BatchItem")
    waiting = BatchItem.objects.filter(status="pending").exclude(member="")
    for job in BatchJob.objects.filter(pk__in=waiting.values("job_id")).exclude(archive=""):
        with job.archive.open("rb") as handle:
            archive = zipfile.ZipFile(io.BytesIO(handle.read()))
        for item in waiting.filter(job=job):
            try:
                data = archive.read(item.member)
            except KeyError:
                continue
            item.file.save(f"batches/{job.pk}/{uuid.uuid4().hex}", ContentFile(data))
        job.archive.delete(save=False)


class Migration(migrations.Migration):
    dependencies = [("classification", "0006_batch_inputs_in_one_archive")]

    operations = [migrations.RunPython(pack, unpack)]
