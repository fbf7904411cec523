"""The training API end to end: create, upload examples, train (202 + poll),
list versions, classify with the result, download it."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.training.examples import TEXTURES, crops, texture_zip
from training.models import TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    return api_client


def test_the_whole_loop(client_a, other_user, django_capture_on_commit_callbacks):
    response = client_a.post(
        "/api/v1/classifiers/",
        {"name": "Suelos", "classes": list(TEXTURES)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    classifier = response.json()
    assert [c["name"] for c in classifier["classes"]] == list(TEXTURES)
    assert all(c["few"] for c in classifier["classes"]) and classifier["model"] is None

    # Files for one class, then a zip for all of them.
    response = client_a.post(
        classifier["examples_url"],
        {
            "class_name": "grava",
            "file": [
                SimpleUploadedFile(f"{i}.jpg", d)
                for i, d in enumerate(crops("gravel.png", 2, seed=50))
            ],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["added"] == {"grava": 2}
    with django_capture_on_commit_callbacks(execute=True):  # the import runs inline here
        response = client_a.post(
            classifier["examples_url"],
            {"archive": SimpleUploadedFile("ex.zip", texture_zip(6))},
            format="multipart",
        )
    assert response.status_code == 202, response.json()
    assert response.json()["url"].endswith(response["Location"]) and response.json()["total"] == 18
    imported = client_a.get(response["Location"]).json()
    assert (imported["status"], imported["added"], imported["failed"]) == ("succeeded", 18, 0)
    classes = client_a.get(classifier["url"]).json()["classes"]
    counts = {c["name"]: c["examples"] for c in classes}
    assert counts == {"ladrillo": 6, "hierba": 6, "grava": 8}

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(classifier["train_url"])
    assert response.status_code == 202
    run = response.json()
    assert response["Location"].endswith(f"/api/v1/training-runs/{run['id']}/")
    polled = client_a.get(run["url"]).json()
    assert polled["status"] == "succeeded", polled["error"]
    assert polled["percent"] == 100 and polled["metrics"]["accuracy"] >= 0.5

    versions = client_a.get(classifier["versions_url"]).json()["results"]
    assert len(versions) == 1 and versions[0]["in_use"] and versions[0]["number"] == 1
    model_id = versions[0]["model"]

    response = client_a.post(
        "/api/v1/classifications/",
        {
            "file": [SimpleUploadedFile("x.jpg", crops("brick.png", 1, seed=99)[0])],
            "model": model_id,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["results"][0]["classes"][0]["name"] == "ladrillo"

    download = client_a.get(versions[0]["downloads"]["zip"])
    assert download.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(download.content)).namelist()) == 3

    # Threshold and name through PATCH.
    response = client_a.patch(
        classifier["url"], {"confidence_threshold": 0.6, "name": "Suelos 2"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["confidence_threshold"] == 0.6 and response.json()["name"] == "Suelos 2"

    # Another user sees none of it.
    client_a.force_authenticate(other_user)
    assert client_a.get(classifier["url"]).status_code == 404
    assert client_a.get(run["url"]).status_code == 404
    assert client_a.get(versions[0]["downloads"]["onnx"]).status_code == 404
    response = client_a.post(
        "/api/v1/classifications/",
        {"file": [SimpleUploadedFile("x.jpg", crops("brick.png", 1)[0])], "model": model_id},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_model"


def test_training_twice_is_one_job_and_errors_are_clear(client_a, user):
    classifier = client_a.post(
        "/api/v1/classifiers/", {"name": "c", "classes": ["a", "b"]}, format="json"
    ).json()
    response = client_a.post(classifier["train_url"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_few_examples"

    for name, source in (("a", "brick.png"), ("b", "grass.png")):
        client_a.post(
            classifier["examples_url"],
            {
                "class_name": name,
                "file": [SimpleUploadedFile(f"{i}.jpg", d) for i, d in enumerate(crops(source, 2))],
            },
            format="multipart",
        )
    first = client_a.post(classifier["train_url"])  # no commit here: stays queued
    second = client_a.post(classifier["train_url"])
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert TrainingRun.objects.count() == 1

    cancelled = client_a.post(first.json()["cancel_url"]).json()
    assert cancelled["status"] == "cancelled"

    bad = client_a.post(
        classifier["examples_url"],
        {"class_name": "a", "file": [SimpleUploadedFile("x.jpg", b"<svg></svg>")]},
        format="multipart",
    )
    assert bad.status_code == 400 and "x.jpg" in bad.json()["error"]["message"]
    too_many = client_a.post(
        "/api/v1/classifiers/", {"name": "d", "classes": [str(i) for i in range(51)]}, format="json"
    )
    assert too_many.status_code == 400


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/v1/classifiers/").status_code == 401
    assert api_client.post("/api/v1/classifiers/", {}, format="json").status_code == 401
