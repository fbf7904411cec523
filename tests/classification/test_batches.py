"""Batches: zip handling with limits, jobs that are idempotent and lease-based."""

import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from classification import services
from classification.models import BatchItem, BatchJob, Prediction
from core.exceptions import ApplicationError
from core.jobs import job_claim
from core.zips import zip_members, zip_open
from tests.accounts.factories import UserFactory
from tests.classification.images import jpeg
from tests.conftest import photo
from tests.models_registry.keras_files import zip_bytes as make_zip

pytestmark = pytest.mark.django_db
URL = "/api/v1/batches/"


def sample_zip() -> bytes:
    return make_zip(
        {
            "holiday/coffee.png": photo("coffee.png"),
            "holiday/camera.png": photo("camera.png"),
            "../../escape.jpg": jpeg(320, 240),
            "broken.jpg": jpeg(320, 240)[:300],
            "__MACOSX/holiday/._coffee.png": b"junk",
            ".DS_Store": b"junk",
            "empty-folder/": b"",
        }
    )


def test_zip_members_are_read_by_content_not_path():
    members = zip_members(zip_open(sample_zip()))
    assert [m.name for m in members] == ["coffee.png", "camera.png", "escape.jpg", "broken.jpg"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not a zip", "bad_zip"),
        (make_zip({}), "no_images"),
        (make_zip({"bomb.jpg": b"\0" * 2_000_000}), "zip_bomb"),
        (make_zip({f"{i}.jpg": b"x" for i in range(6)}), "too_many_files"),
    ],
)
def test_hostile_or_empty_zips(data, code, settings):
    settings.BATCH_MAX_FILES = 5
    with pytest.raises(ApplicationError) as error:
        zip_members(zip_open(data))
    assert error.value.code == code


def test_zip_total_size_is_bounded_while_reading(settings):
    settings.BATCH_MAX_UNCOMPRESSED_BYTES = 150_000
    data = make_zip({f"{i}.jpg": jpeg(640, 480, seed=i) for i in range(6)}, zipfile.ZIP_STORED)
    with pytest.raises(ApplicationError) as error:
        zip_members(zip_open(data))
    assert error.value.code == "zip_too_large"


def _stored_uploads() -> set[str]:
    try:
        return set(default_storage.listdir("uploads")[1])
    except FileNotFoundError:
        return set()


def test_batch_via_api_with_one_bad_file(
    api_client, user, imagenet_model, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(user)
    before = _stored_uploads()
    with django_capture_on_commit_callbacks(execute=True):  # the inline backend runs the job
        response = api_client.post(
            URL, {"archive": SimpleUploadedFile("photos.zip", sample_zip())}, format="multipart"
        )
    assert response.status_code == 202, response.json()
    job_url = response["Location"]
    job = api_client.get(job_url).json()
    assert (job["status"], job["total"], job["done"], job["failed"], job["percent"]) == (
        "succeeded",
        4,
        3,
        1,
        100,
    )
    results = api_client.get(job["results_url"]).json()
    assert results["count"] == 4
    by_name = {r["original_name"]: r for r in results["results"]}
    assert by_name["coffee.png"]["classes"][0]["key"] == "n07920052"
    assert by_name["broken.jpg"]["status"] == "failed"
    assert "damaged" in by_name["broken.jpg"]["error"]
    assert Prediction.objects.filter(user=user, batch_item__isnull=False).count() == 3
    # The uploaded zip is removed once the job has ended.
    finished = BatchJob.objects.get()
    assert not finished.archive and finished.archive_bytes > 0
    assert _stored_uploads() == before


def test_batch_of_plain_files(api_client, user, imagenet_model, django_capture_on_commit_callbacks):
    api_client.force_authenticate(user)
    files = [SimpleUploadedFile(n, photo(n)) for n in ("coffee.png", "chelsea.png")]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, {"file": files, "store": "false"}, format="multipart")
    assert response.status_code == 202
    job = BatchJob.objects.get()
    assert (job.done, job.failed, job.store_images) == (2, 0, False)
    assert not Prediction.objects.filter(image__isnull=False).exists()


def test_bad_batches_store_nothing(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    for payload in (
        {"archive": SimpleUploadedFile("x.zip", b"garbage")},
        {},
        {"archive": SimpleUploadedFile("x.zip", sample_zip()), "model": "nope"},
    ):
        response = api_client.post(URL, payload, format="multipart")
        assert response.status_code == 400, response.json()
    assert not BatchJob.objects.exists() and not BatchItem.objects.exists()


def _job_with_items(user, version, count=3) -> BatchJob:
    uploads = [services.Upload(name=f"{i}.png", data=photo("coffee.png")) for i in range(count)]
    return services.batch_job_create(user=user, uploads=uploads, version=version, store=False)


def test_running_a_job_twice_never_duplicates(user, imagenet_model):
    job = _job_with_items(user, imagenet_model)
    services.batch_job_run(job_id=job.pk)
    assert services.batch_job_run(job_id=job.pk) is None  # finished: nothing to claim
    job.refresh_from_db()
    assert (job.status, job.done, job.attempts) == ("succeeded", 3, 1)
    assert Prediction.objects.count() == 3


def test_a_job_whose_worker_died_is_resumed_after_its_lease(user, imagenet_model, settings):
    job = _job_with_items(user, imagenet_model, count=4)
    # Worker A takes the job and its first item, then dies (no more heartbeats).
    assert job_claim(job=job, worker="a")
    held = services.batch_item_claim(job=job, worker="a")
    assert held.index == 0
    # B joins the running job and does every item nobody holds.
    joined = services.batch_job_run(job_id=job.pk, worker="b")
    assert (joined.status, joined.done) == ("running", 3)
    # A's claims expire; the job is taken again and A's item finished, once.
    BatchJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    BatchItem.objects.filter(pk=held.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    resumed = services.batch_job_run(job_id=job.pk, worker="b")
    assert resumed.status == "succeeded"
    assert (resumed.done, resumed.failed, resumed.attempts, resumed.worker) == (4, 0, 2, "b")
    assert Prediction.objects.count() == 4  # each item exactly once
    assert set(BatchItem.objects.values_list("status", flat=True)) == {"done"}


def test_two_runners_share_a_batch_and_never_take_the_same_item(user, imagenet_model):
    job = _job_with_items(user, imagenet_model, count=6)
    assert job_claim(job=job, worker="a")
    first = services.batch_item_claim(job=job, worker="a")
    second = services.batch_item_claim(job=job, worker="b")
    assert first.pk != second.pk
    assert (
        services.batch_runners_for(1000) == settings_runners()
        and services.batch_runners_for(5) == 1
    )


def settings_runners() -> int:
    from django.conf import settings

    return settings.BATCH_RUNNERS_PER_JOB


def test_other_users_cannot_see_jobs(api_client, user, imagenet_model):
    job = _job_with_items(user, imagenet_model, count=1)
    api_client.force_authenticate(UserFactory())
    assert api_client.get(reverse("api:batch-detail", args=[job.pk])).status_code == 404
    assert api_client.get(reverse("api:batch-results", args=[job.pk])).status_code == 404
    assert api_client.get(URL).json()["count"] == 0


def test_item_errors_are_written_in_the_language_the_batch_was_started_in(
    api_client, user, imagenet_model, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(user)
    files = [SimpleUploadedFile("roto.jpg", b"\xff\xd8 not a jpeg")]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            URL, {"file": files}, format="multipart", HTTP_ACCEPT_LANGUAGE="es"
        )
    assert response.status_code == 202
    item = BatchItem.objects.get()
    assert item.job.language == "es"
    assert item.status == "failed"
    assert "no es una imagen" in item.error or "dañada" in item.error
