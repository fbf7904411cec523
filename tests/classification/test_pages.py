"""The classify, history and batch pages (server side), and privacy between users."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classification import services
from classification.models import BatchJob, Image, Prediction
from tests.accounts.factories import UserFactory
from tests.classification.test_batches import sample_zip
from tests.conftest import photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, user, imagenet_model):
    client.force_login(user)
    return client


def _classify(user, version, *names, store=True):
    uploads = [services.Upload(name=n, data=photo(n)) for n in names]
    return services.classify_uploads(user=user, uploads=uploads, version=version, store=store)


def test_classify_page_works_without_javascript(owner_client):
    page = owner_client.get(reverse("classification:classify")).content.decode()
    assert 'accept="image/*"' in page and 'capture="environment"' in page and "multiple" in page
    response = owner_client.post(
        reverse("classification:classify"),
        {
            "file": [SimpleUploadedFile("coffee.png", photo("coffee.png"))],
            "model": "default",
            "store": "on",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "espresso" in body and "Answered by EfficientNet-Lite0 v1" in body
    assert Prediction.objects.count() == 1


def test_classify_page_reports_bad_files_in_spanish(owner_client):
    response = owner_client.post(
        reverse("classification:classify"),
        {"file": [SimpleUploadedFile("x.jpg", b"nope")], "model": "default"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400
    assert "no es una imagen" in response.content.decode()
    assert not Prediction.objects.exists()


def test_classify_page_without_any_model(client, user):
    client.force_login(user)
    assert (
        "No classifier is installed yet"
        in client.get(reverse("classification:classify")).content.decode()
    )


def test_history_list_filter_detail_and_exports(owner_client, user, imagenet_model):
    _classify(user, imagenet_model, "coffee.png", "camera.png")
    page = owner_client.get(reverse("classification:history")).content.decode()
    assert "espresso" in page and "tripod" in page and "EfficientNet-Lite0 v1" in page
    assert (
        "espresso"
        not in owner_client.get(
            reverse("classification:history"), {"since": "2999-01-01"}
        ).content.decode()
    )

    prediction = Prediction.objects.get(original_name="coffee.png")
    detail = owner_client.get(reverse("classification:prediction_detail", args=[prediction.pk]))
    assert "espresso" in detail.content.decode()
    image = owner_client.get(reverse("classification:image", args=[prediction.image_id]))
    assert image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:2] == b"\xff\xd8"

    exported = owner_client.get(reverse("classification:history_export", args=["json"]))
    records = json.loads(exported.content)
    assert {r["file"] for r in records} == {"coffee.png", "camera.png"}
    assert records[0]["classes"][0]["probability"] > 0.5
    response = owner_client.get(
        reverse("classification:history_export", args=["csv"]), HTTP_ACCEPT_LANGUAGE="es"
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "file", "created_at"]
    assert any(row[7] == "café exprés" for row in rows[1:])


def test_history_is_paginated(owner_client, user, imagenet_model):
    for _request in range(2):  # a page holds 24
        _classify(user, imagenet_model, *(["coffee.png"] * 12), store=False)
    _classify(user, imagenet_model, "camera.png", store=False)
    first = owner_client.get(reverse("classification:history")).content.decode()
    assert "Page 1 of 2" in first and "tripod" in first
    second = owner_client.get(reverse("classification:history"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_delete_one_and_all(owner_client, user, imagenet_model):
    first, _second = _classify(user, imagenet_model, "coffee.png", "camera.png")
    response = owner_client.post(reverse("classification:prediction_delete", args=[first.pk]))
    assert response.status_code == 302
    assert not Prediction.objects.filter(pk=first.pk).exists()
    assert not Image.objects.filter(pk=first.image_id).exists()
    owner_client.post(reverse("classification:history_delete_all"))
    assert not Prediction.objects.filter(user=user).exists()
    assert not Image.objects.filter(user=user).exists()


def test_batch_pages(owner_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("classification:batch_new"),
            {
                "archive": SimpleUploadedFile("photos.zip", sample_zip()),
                "model": "default",
                "store": "on",
            },
        )
    job = BatchJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("classification:batch_detail", args=[job.pk])
    page = owner_client.get(response.url).content.decode()
    assert "espresso" in page and "broken.jpg" in page and "damaged" in page
    exported = owner_client.get(reverse("classification:batch_export", args=[job.pk, "json"]))
    records = json.loads(exported.content)
    assert [r["status"] for r in records] == ["done", "done", "done", "failed"]


def test_batch_page_shows_live_progress_while_running(owner_client, user, imagenet_model):
    job = services.batch_job_create(
        user=user, uploads=[services.Upload("a.png", photo("coffee.png"))], version=imagenet_model
    )
    page = owner_client.get(reverse("classification:batch_detail", args=[job.pk])).content.decode()
    assert 'data-finished="false"' in page and "batch.js" in page and "<progress" in page


def test_another_user_gets_404_on_every_page(client, user, imagenet_model):
    (prediction,) = _classify(user, imagenet_model, "coffee.png")
    job = services.batch_job_create(
        user=user, uploads=[services.Upload("a.png", photo("coffee.png"))], version=imagenet_model
    )
    client.force_login(UserFactory())
    gets = [
        reverse("classification:prediction_detail", args=[prediction.pk]),
        reverse("classification:image", args=[prediction.image_id]),
        reverse("classification:thumbnail", args=[prediction.image_id]),
        reverse("classification:batch_detail", args=[job.pk]),
        reverse("classification:batch_export", args=[job.pk, "csv"]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("classification:prediction_delete", args=[prediction.pk])).status_code
        == 404
    )
    assert "espresso" not in client.get(reverse("classification:history")).content.decode()
    exported = json.loads(
        client.get(reverse("classification:history_export", args=["json"])).content
    )
    assert exported == []
    client.post(reverse("classification:history_delete_all"))
    assert Prediction.objects.filter(pk=prediction.pk).exists()


def test_pages_need_login(client):
    for name in ("classify", "history", "batch_new"):
        response = client.get(reverse(f"classification:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_deleting_the_account_removes_images_and_files(
    client, user, imagenet_model, password, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    (prediction,) = _classify(user, imagenet_model, "coffee.png")
    name = prediction.image.file.name
    with django_capture_on_commit_callbacks(execute=True):
        from accounts.services import user_delete

        user_delete(user=user)
    assert not Prediction.objects.exists()
    assert not default_storage.exists(name)
