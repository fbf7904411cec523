"""A token without history:read follows only what it made: its own batches
(status, results, sorted.zip) and classifications (read and delete); every
other id of the same user answers 404. With history:read, or in a browser
session, the whole history is reachable."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import services as accounts
from classification import services
from classification.models import BatchJob, Prediction
from tests.conftest import photo

pytestmark = pytest.mark.django_db


def _client(user, *scopes) -> APIClient:
    _token, key = accounts.api_token_create(user=user, name="t", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _classify(client) -> int:
    response = client.post(
        "/api/v1/classifications/",
        {"file": [SimpleUploadedFile("c.png", photo("coffee.png"))]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response.json()["results"][0]["id"]


def _batch(client) -> BatchJob:
    response = client.post(
        "/api/v1/batches/",
        {"file": [SimpleUploadedFile("c.png", photo("coffee.png"))]},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    services.batch_job_run(job_id=response.json()["id"])
    return BatchJob.objects.get(pk=response.json()["id"])


def _batch_reads(client, job) -> list[int]:
    base = f"/api/v1/batches/{job.pk}/"
    return [
        client.get(base).status_code,
        client.get(base + "results/").status_code,
        client.get(base + "sorted.zip").status_code,
    ]


@pytest.fixture
def made(user, imagenet_model):
    """Two classify-only tokens of one user, each with a batch and a classification."""
    mine, theirs = _client(user, "classify"), _client(user, "classify")
    return {
        "mine": mine,
        "theirs": theirs,
        "my_batch": _batch(mine),
        "their_batch": _batch(theirs),
        "my_prediction": _classify(mine),
        "their_prediction": _classify(theirs),
    }


def test_the_api_records_the_token_that_made_it(made):
    job = made["my_batch"]
    assert job.api_token is not None
    prediction = Prediction.objects.get(pk=made["my_prediction"])
    assert prediction.api_token_id == job.api_token_id
    assert Prediction.objects.get(pk=made["their_prediction"]).api_token_id != job.api_token_id


def test_a_classify_only_token_follows_only_its_own_batches(made):
    mine = made["mine"]
    assert _batch_reads(mine, made["my_batch"]) == [200, 200, 200]
    assert _batch_reads(mine, made["their_batch"]) == [404, 404, 404]


def test_a_classify_only_token_reads_and_deletes_only_its_own_classifications(made):
    mine = made["mine"]
    theirs = made["their_prediction"]
    assert mine.get(f"/api/v1/classifications/{theirs}/").status_code == 404
    assert mine.delete(f"/api/v1/classifications/{theirs}/").status_code == 404
    assert Prediction.objects.filter(pk=theirs).exists()
    # Its batch's classifications are its own too.
    from_batch = Prediction.objects.get(batch_item__job=made["my_batch"])
    assert mine.get(f"/api/v1/classifications/{from_batch.pk}/").status_code == 200
    own = made["my_prediction"]
    assert mine.get(f"/api/v1/classifications/{own}/").status_code == 200
    assert mine.delete(f"/api/v1/classifications/{own}/").status_code == 204
    assert not Prediction.objects.filter(pk=own).exists()


def test_history_read_or_a_session_reaches_everything(made, user, client):
    reader = _client(user, "classify", "history:read")
    assert _batch_reads(reader, made["their_batch"]) == [200, 200, 200]
    theirs = made["their_prediction"]
    assert reader.get(f"/api/v1/classifications/{theirs}/").status_code == 200
    client.force_login(user)
    assert client.get(f"/api/v1/batches/{made['my_batch'].pk}/").status_code == 200
    assert client.delete(f"/api/v1/classifications/{theirs}/").status_code == 204


def test_deleting_the_token_keeps_what_it_made(made):
    job = made["my_batch"]
    job.api_token.delete()
    job.refresh_from_db()
    assert job.api_token is None
    assert Prediction.objects.get(pk=made["my_prediction"]).api_token is None


def test_a_classify_only_token_corrects_only_its_own_classifications(made):
    mine = made["mine"]
    theirs = made["their_prediction"]
    wrong = {"correct": "tabby cat", "consent": True}
    feedback = f"/api/v1/classifications/{theirs}/feedback/"
    # nor shares its photo with staff
    assert mine.post(feedback, wrong, format="json").status_code == 404
    own = f"/api/v1/classifications/{made['my_prediction']}/feedback/"
    assert mine.post(own, wrong, format="json").status_code == 201
