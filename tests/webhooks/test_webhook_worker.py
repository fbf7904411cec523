"""A batch ends in a separate worker process, which then delivers the
batch.finished event to a real receiver: the first answer is a 500, the same
worker retries, and the receiver checks the signature each time."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classification.models import BatchJob
from tests.conftest import photo
from tests.models_registry.test_worker import DB_BACKEND, run_worker, worker_env
from tests.webhooks.receiver import receive
from webhooks.models import WebhookDelivery


@pytest.mark.django_db(transaction=True)
def test_a_batch_finished_in_a_worker_is_delivered_and_retried(
    api_client,
    user,
    imagenet_model,
    stand_in,
    settings,
):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    route, seen = receive(stand_in, "/hook", answers=[500, 200])
    api_client.force_authenticate(user)
    endpoint = api_client.post(
        "/api/v1/webhooks/",
        {"url": stand_in.url("/hook"), "events": ["batch.finished", "batch.failed"]},
        format="json",
    ).json()
    route.secret = endpoint["secret"]
    files = [SimpleUploadedFile(n, photo(n)) for n in ("coffee.png", "chelsea.png")]
    response = api_client.post("/api/v1/batches/", {"file": files}, format="multipart")
    assert response.status_code == 202
    assert seen == []  # nothing ends in the request

    env = {
        **worker_env(),
        "DJANGO_FETCH_ALLOW_HTTP": "true",
        "DJANGO_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
        "DJANGO_WEBHOOK_RETRY_BASE_SECONDS": "0",
    }
    result = run_worker("batches", "default", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    job = BatchJob.objects.get()
    assert job.status == "succeeded"
    assert [verified for verified, _event in seen] == [True, True], result.stderr[-3000:]
    event = seen[-1][1]
    assert event["type"] == "batch.finished"
    assert event["data"]["id"] == job.pk and event["data"]["done"] == 2
    assert event["data"]["url"] == f"/api/v1/batches/{job.pk}/"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert [a["status_code"] for a in delivery.log] == [500, 200]
    assert delivery.worker == "" or ":" in delivery.worker  # a worker process, not this one
    logged = api_client.get(endpoint["deliveries_url"]).json()["results"]
    assert [(d["event"], d["status"]) for d in logged] == [("batch.finished", "succeeded")]
