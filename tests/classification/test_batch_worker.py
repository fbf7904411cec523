"""A 200-image zip goes through the real queue and a separate worker process."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classification.models import BatchItem, BatchJob, Prediction
from tests.classification.images import jpeg
from tests.classification.test_batches import make_zip
from tests.models_registry.test_worker import DB_BACKEND, run_worker


@pytest.mark.django_db(transaction=True)
def test_two_hundred_images_through_a_worker_process(api_client, user, imagenet_model, settings):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    members = {f"photos/{i:03}.jpg": jpeg(320, 240, seed=i) for i in range(199)}
    members["photos/corrupt.jpg"] = b"\xff\xd8\xff\xe0 definitely not a whole jpeg"
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/v1/batches/",
        {"archive": SimpleUploadedFile("photos.zip", make_zip(members)), "store": "false"},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    job = BatchJob.objects.get()
    assert job.status == "queued" and job.total == 200

    result = run_worker("batches")
    assert result.returncode == 0, result.stderr[-3000:]
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("succeeded", 199, 1), result.stderr[-2000:]
    assert Prediction.objects.filter(batch_item__job=job).count() == 199
    failed = BatchItem.objects.get(status="failed")
    assert failed.original_name == "corrupt.jpg" and failed.error
    progress = api_client.get(f"/api/v1/batches/{job.pk}/").json()
    assert progress["percent"] == 100
