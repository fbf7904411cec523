"""Items that failed before errors were stored as codes get the code whose
message (English or Spanish, with or without the file's name in front) is the
text they recorded, so they too are shown in the reader's language. Texts that
match no message keep being shown as written. Going back keeps the codes (the
previous migration's reverse removes them)."""

from django.db import migrations
from django.utils import translation

# The messages of classification.batch_errors that take no numbers, as they
# were written then; a copy, so this migration stays as it is.
MESSAGES = {
    "input_missing": "The uploaded file is missing.",
    "worker_stopped": "This file stopped the worker repeatedly.",
    "job_ended": "The job ended before this file was classified.",
    "empty_file": "The file is empty.",
    "unsupported_format": (
        "This image format is not supported. Use JPEG, PNG, GIF, WebP, BMP or TIFF."
    ),
    "not_an_image": "The file is not an image, or its format is not supported.",
    "corrupt_image": "The image is damaged or incomplete and cannot be read.",
    "image_too_large": "The image is too large to open safely.",
}


def _codes_by_text() -> dict[str, str]:
    codes = {}
    for language in ("en", "es"):
        with translation.override(language):
            for code, message in MESSAGES.items():
                codes[translation.gettext(message)] = code
    return codes


def record_codes(apps, schema_editor):
    BatchItem = apps.get_model("classification", "BatchItem")
    codes = _codes_by_text()
    failed = BatchItem.objects.filter(status="failed", error_code="").exclude(error="")
    for item in failed.iterator(chunk_size=500):
        text = item.error.removeprefix(f"{item.original_name}: ")
        if code := codes.get(text):
            BatchItem.objects.filter(pk=item.pk).update(error_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("classification", "0011_batch_items_store_error_codes"),
    ]

    operations = [
        migrations.RunPython(record_codes, migrations.RunPython.noop),
    ]
