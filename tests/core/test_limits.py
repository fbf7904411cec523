"""Every limit in front of expensive work: one rate limit per action shared by
pages and API, zips checked before anything is stored, a per-user space for
uploads waiting for a worker, and JSON from the API even when a view breaks."""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classification.models import BatchItem, BatchJob
from core.exceptions import ApplicationError
from core.ratelimits import parse_rate, rate_limit_hit
from core.zips import zip_member_read, zip_members, zip_open
from tests.classification.images import jpeg
from tests.models_registry.keras_files import zip_bytes
from tests.training.examples import TEXTURES, texture_zip
from training import services as training

pytestmark = pytest.mark.django_db


def _error(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        call()
    return error.value


# Rate limits
# ------------------------------------------------------------------------------


def test_rates_are_read_like_the_settings_write_them():
    assert parse_rate("600/minute") == (600, 60)
    assert parse_rate("60/hour") == (60, 3600)
    assert parse_rate("5/30s") == (5, 30)
    assert parse_rate("2/day") == (2, 86400)


def test_a_limit_counts_per_user_and_says_how_long_to_wait(user, other_user, settings):
    settings.RATE_LIMITS = {"batch": "2/hour"}
    rate_limit_hit(action="batch", user=user)
    rate_limit_hit(action="batch", user=user)
    error = _error(lambda: rate_limit_hit(action="batch", user=user))
    assert (error.code, error.status) == ("rate_limited", 429)
    assert 1 <= error.extra["retry_after"] <= 3600
    rate_limit_hit(action="batch", user=other_user)  # someone else is not affected
    rate_limit_hit(action="unlimited", user=user)  # an action without a limit


@pytest.fixture
def signed_in(client, user, imagenet_model):
    client.force_login(user)
    return client


def _zip() -> bytes:
    return zip_bytes({"a.jpg": jpeg(64, 48)})


def test_batches_share_one_limit_between_the_api_and_the_pages(signed_in, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "batch": "3/hour"}
    api = "/api/v1/batches/"
    for _ in range(2):
        answer = signed_in.post(api, {"archive": SimpleUploadedFile("a.zip", _zip())})
        assert answer.status_code == 202
    page = signed_in.post(
        reverse("classification:batch_new"),
        {"archive": SimpleUploadedFile("a.zip", _zip()), "model": "default"},
    )
    assert page.status_code == 302  # the third: accepted by the page
    page = signed_in.post(
        reverse("classification:batch_new"),
        {"archive": SimpleUploadedFile("a.zip", _zip()), "model": "default"},
    )
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1
    assert "Too many requests" in page.content.decode()
    answer = signed_in.post(api, {"archive": SimpleUploadedFile("a.zip", _zip())})
    assert answer.status_code == 429 and answer.json()["error"]["code"] == "rate_limited"
    assert int(answer["Retry-After"]) >= 1
    assert BatchJob.objects.count() == 3


def test_the_classify_page_counts_with_the_api(signed_in, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "classify": "1/minute"}
    data = {"file": [SimpleUploadedFile("x.jpg", jpeg(64, 48))], "store": "false"}
    assert signed_in.post("/api/v1/classifications/", data).status_code == 200
    data = {"file": [SimpleUploadedFile("x.jpg", jpeg(64, 48))], "model": "default"}
    page = signed_in.post(reverse("classification:classify"), data)
    assert page.status_code == 429


def test_example_uploads_share_one_limit(signed_in, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "examples": "1/hour"}
    classifier = training.classifier_create(user=user, name="c", class_names=list(TEXTURES))
    url = reverse("training:examples_upload", args=[classifier.pk])
    files = {"class": "grava", "file": [SimpleUploadedFile("1.jpg", jpeg(64, 48))]}
    assert signed_in.post(url, files).status_code == 302
    response = signed_in.post(
        f"/api/v1/classifiers/{classifier.pk}/examples/",
        {"archive": SimpleUploadedFile("x.zip", texture_zip(1))},
    )
    assert response.status_code == 429
    page = signed_in.post(url, files, follow=True)
    assert "Too many requests" in page.content.decode()
    assert classifier.imports.count() == 0


# Zips: the directory is checked before anything is stored
# ------------------------------------------------------------------------------


def test_a_zip_listing_a_name_twice_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("a.jpg", b"one")
        archive.writestr("a.jpg", b"two")
    assert _error(lambda: zip_members(zip_open(buffer.getvalue()))).code == "bad_zip"


def test_declared_sizes_bound_every_read(settings):
    settings.BATCH_MAX_UNCOMPRESSED_BYTES = 150_000
    data = zip_bytes({f"{i}.jpg": jpeg(640, 480, seed=i) for i in range(6)}, zipfile.ZIP_STORED)
    error = _error(lambda: zip_members(zip_open(data)))
    assert (error.code, error.status) == ("zip_too_large", 413)
    # A member whose data is longer than its entry says is read only as far as
    # it says, and then refused (its checksum no longer matches).
    archive = zip_open(zip_bytes({"a.jpg": b"x" * 1000}, zipfile.ZIP_STORED))
    info = archive.infolist()[0]
    info.file_size = 10
    assert _error(lambda: zip_member_read(archive, info)).code == "bad_zip"


def test_a_batch_stores_one_archive_and_nothing_per_image(
    user, imagenet_model, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from classification import services

    members = {f"{i}.jpg": os.urandom(1000) + bytes(19_000) for i in range(30)}  # junk
    data = zip_bytes(members)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.batch_job_create(user=user, version=imagenet_model, archive=io.BytesIO(data))
    assert job.archive_bytes == len(data) and job.total == 30
    assert default_storage.size(job.archive.name) == len(data)  # stored as it came
    assert not default_storage.exists(f"batches/{job.pk}")
    stored = job.archive.name
    with django_capture_on_commit_callbacks(execute=True):
        job = services.batch_job_run(job_id=job.pk)
    assert (job.status, job.done, job.failed) == ("succeeded", 0, 30)
    assert "not an image" in BatchItem.objects.filter(job=job).first().error
    job.refresh_from_db()
    assert not job.archive and not default_storage.exists(stored)  # inputs go with the job


def test_uploads_waiting_for_a_worker_have_a_space_per_user(
    user, other_user, imagenet_model, settings
):
    from classification import services

    data = zip_bytes({f"{i}.jpg": jpeg(320, 240, seed=i) for i in range(4)}, zipfile.ZIP_STORED)
    settings.UPLOAD_MAX_PENDING_BYTES = int(len(data) * 2.5)
    for _ in range(2):  # queued, not run: they wait
        services.batch_job_create(user=user, version=imagenet_model, archive=io.BytesIO(data))
    error = _error(
        lambda: services.batch_job_create(
            user=user, version=imagenet_model, archive=io.BytesIO(data)
        )
    )
    assert (error.code, error.status) == ("upload_quota", 413)
    classifier = training.classifier_create(user=user, name="c", class_names=list(TEXTURES))
    error = _error(
        lambda: training.example_import_start(
            classifier=classifier, user=user, archive=io.BytesIO(texture_zip(3))
        )
    )
    assert error.code == "upload_quota"  # imports count in the same space
    assert BatchJob.objects.filter(user=user).count() == 2
    # Another user has their own space; a finished job frees its space.
    services.batch_job_create(user=other_user, version=imagenet_model, archive=io.BytesIO(data))
    BatchJob.objects.filter(user=user).update(status="succeeded")
    services.batch_job_create(user=user, version=imagenet_model, archive=io.BytesIO(data))


# The API answers JSON, always
# ------------------------------------------------------------------------------


def test_an_unexpected_error_in_the_api_is_json(client, user, monkeypatch):
    from classification.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.selectors, "batch_job_list_for_user", broken)
    client.raise_request_exception = False
    client.force_login(user)
    response = client.get("/api/v1/batches/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "server_error"
    page = client.get("/classify/batches/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_a_zip_may_be_larger_than_one_image_but_not_than_its_own_limit(signed_in, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 100_000
    settings.UPLOAD_MAX_ARCHIVE_BYTES = 1_000_000
    photos = {f"{i}.jpg": jpeg(320, 240, seed=i) for i in range(20)}
    data = zip_bytes(photos, zipfile.ZIP_STORED)
    assert settings.UPLOAD_MAX_FILE_BYTES < len(data) < settings.UPLOAD_MAX_ARCHIVE_BYTES
    answer = signed_in.post("/api/v1/batches/", {"archive": SimpleUploadedFile("p.zip", data)})
    assert answer.status_code == 202, answer.json()
    big = SimpleUploadedFile("big.jpg", bytes(150_000))  # a loose file keeps the file limit
    answer = signed_in.post("/api/v1/batches/", {"file": [big]})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "file_too_large"
    settings.UPLOAD_MAX_ARCHIVE_BYTES = len(data) - 1
    answer = signed_in.post("/api/v1/batches/", {"archive": SimpleUploadedFile("p.zip", data)})
    assert answer.status_code == 413 and "zip is larger" in answer.json()["error"]["message"]
    assert BatchJob.objects.count() == 1


def test_a_batch_of_loose_files_may_hold_more_than_a_hundred(signed_in):
    files = [SimpleUploadedFile(f"{i}.jpg", jpeg(32, 24, seed=i)) for i in range(150)]
    answer = signed_in.post("/api/v1/batches/", {"file": files, "store": "false"})
    assert answer.status_code == 202, answer.content[:300]
    assert answer.json()["total"] == 150


def test_a_cache_outage_does_not_take_the_site_down(signed_in, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "batch": "1/hour"}
    for _ in range(2):  # not counted, so never over the limit: served, and said so
        answer = signed_in.post(
            "/api/v1/batches/", {"archive": SimpleUploadedFile("a.zip", _zip())}
        )
        assert answer.status_code == 202
    assert "the cache is unavailable" in caplog.text
