"""A batch item's failure is stored as a code and its numbers, and shown in the
language of whoever reads it (page, API, exports), whatever language the
batch was started in."""

import csv
import importlib
import io

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from classification import services
from classification.batch_errors import MESSAGES, item_error_message
from classification.models import BatchItem, BatchJob
from tests.classification.images import encode, jpeg

pytestmark = pytest.mark.django_db
URL = "/api/v1/batches/"

EXPECTED = {
    "roto.jpg": (
        "corrupt_image",
        {},
        "The image is damaged or incomplete and cannot be read.",
        "La imagen está dañada o incompleta y no se puede leer.",
    ),
    "notas.txt": (
        "not_an_image",
        {},
        "The file is not an image, or its format is not supported.",
        "El archivo no es una imagen o su formato no es compatible.",
    ),
    "enorme.png": (
        "image_too_large",
        {"width": 1200, "height": 900},
        "The image is too large (1200 × 900 pixels).",
        "La imagen es demasiado grande (1200 × 900 píxeles).",
    ),
}


@pytest.fixture
def spanish_batch(client, user, imagenet_model, settings, django_capture_on_commit_callbacks):
    """Started in Spanish: three files that fail and one that is classified."""
    settings.IMAGE_MAX_PIXELS = 1_000_000
    client.force_login(user)
    files = [
        SimpleUploadedFile("roto.jpg", jpeg(320, 240)[:300]),
        SimpleUploadedFile("notas.txt", b"una lista de la compra"),
        SimpleUploadedFile("enorme.png", encode(Image.new("RGB", (1200, 900)), "PNG")),
        SimpleUploadedFile("bien.jpg", jpeg(320, 240)),
    ]
    client.cookies["django_language"] = "es"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("classification:batch_new"), {"model": "default", "store": "on", "file": files}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = BatchJob.objects.get()
    assert (job.language, job.done, job.failed) == ("es", 1, 3)
    return job


def test_failures_are_stored_as_codes_with_their_numbers(spanish_batch):
    for name, (code, params, _english, spanish) in EXPECTED.items():
        item = BatchItem.objects.get(job=spanish_batch, original_name=name)
        assert (item.status, item.error_code, item.error_params) == ("failed", code, params)
        assert item.error == spanish  # as written then, in the job's language


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_page_shows_each_reason_in_the_readers_language(client, spanish_batch, language):
    client.cookies["django_language"] = language
    page = client.get(reverse("classification:batch_detail", args=[spanish_batch.pk]))
    text = page.content.decode()
    for _code, _params, english, spanish in EXPECTED.values():
        assert (english if language == "en" else spanish) in text
        assert (spanish if language == "en" else english) not in text


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_api_returns_the_code_and_the_message(client, spanish_batch, language):
    url = reverse("api:batch-results", args=[spanish_batch.pk])
    del client.cookies["django_language"]  # the API follows Accept-Language
    results = client.get(url, HTTP_ACCEPT_LANGUAGE=language).json()["results"]
    by_name = {row["original_name"]: row for row in results}
    for name, (code, _params, english, spanish) in EXPECTED.items():
        assert by_name[name]["error_code"] == code
        assert by_name[name]["error"] == (english if language == "en" else spanish)
    assert by_name["bien.jpg"]["error_code"] == "" and by_name["bien.jpg"]["error"] == ""


def test_exports_write_reasons_in_the_readers_language(client, spanish_batch):
    client.cookies["django_language"] = "en"
    url = reverse("classification:batch_export", args=[spanish_batch.pk, "json"])
    records = {r["file"]: r for r in client.get(url).json()}
    assert records["roto.jpg"]["error_code"] == "corrupt_image"
    assert records["roto.jpg"]["error"] == EXPECTED["roto.jpg"][2]
    body = b"".join(
        client.get(
            reverse("classification:batch_export", args=[spanish_batch.pk, "csv"])
        ).streaming_content
    ).decode()
    names = {row["file"]: row["name"] for row in csv.DictReader(io.StringIO(body))}
    assert names["notas.txt"] == EXPECTED["notas.txt"][2]


def test_an_item_the_job_never_reached_says_so_in_the_readers_language(user, imagenet_model):
    job = services.batch_job_create(
        user=user,
        version=imagenet_model,
        uploads=[services.Upload("a.jpg", jpeg(64, 64))],
    )
    job.on_finished()  # ended (given up by the sweep, say) before the item ran
    item = BatchItem.objects.get(job=job)
    assert (item.status, item.error_code) == ("failed", "job_ended")
    from django.utils import translation

    with translation.override("es"):
        assert item.error_message == "El trabajo terminó antes de clasificar este archivo."
    assert item.error_message == "The job ended before this file was classified."


def test_an_unknown_code_keeps_the_text_written_then():
    assert item_error_message(code="something_new", params={}, text="As written.") == "As written."
    # A listed message whose numbers are missing falls back to the next one.
    assert item_error_message(code="image_too_large", params={}, text="x") == (
        "The image is too large to open safely."
    )


def test_every_message_is_translated():
    from django.utils import translation

    with translation.override("es"):
        for code, messages in MESSAGES.items():
            for message in messages:
                assert translation.gettext(message) != message, code


def test_migration_gives_earlier_failures_their_codes(user, imagenet_model):
    job = services.batch_job_create(
        user=user,
        version=imagenet_model,
        uploads=[services.Upload(n, jpeg(64, 64)) for n in ("a.jpg", "b.jpg", "c.jpg")],
    )
    rows = {
        "a.jpg": "a.jpg: La imagen está dañada o incompleta y no se puede leer.",
        "b.jpg": "The file is empty.",
        "c.jpg": "Something nobody listed.",
    }
    for name, text in rows.items():
        BatchItem.objects.filter(job=job, original_name=name).update(status="failed", error=text)
    migration = importlib.import_module(
        "classification.migrations.0012_batch_item_errors_recorded_as_codes"
    )
    migration.record_codes(apps, None)
    codes = dict(BatchItem.objects.filter(job=job).values_list("original_name", "error_code"))
    assert codes == {"a.jpg": "corrupt_image", "b.jpg": "empty_file", "c.jpg": ""}
    assert BatchItem.objects.get(job=job, original_name="c.jpg").error_message == rows["c.jpg"]
