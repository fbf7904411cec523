"""POST /api/v1/classifications/ and friends, against the real model."""

import base64
import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage

from classification.models import Image, Prediction
from tests.accounts.factories import UserFactory
from tests.classification.images import encode, jpeg
from tests.conftest import photo

pytestmark = pytest.mark.django_db
URL = "/api/v1/classifications/"


def _files(*names: str) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, photo(name)) for name in names]


def _media_files() -> set[str]:
    root = Path(default_storage.location) / "images"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def client_a(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    return api_client


def test_classify_one_photo(client_a, user):
    response = client_a.post(URL, {"file": _files("coffee.png")}, format="multipart")
    assert response.status_code == 201, response.json()
    (result,) = response.json()["results"]
    assert result["classes"][0]["key"] == "n07920052"
    assert result["classes"][0]["name"] == "espresso"
    assert len(result["classes"]) == 5
    assert result["model"]["name"] == "EfficientNet-Lite0"
    assert result["label_set"]["name"] == "ImageNet-1k"
    assert result["url"].endswith(reverse("api:classification-detail", args=[result["id"]]))
    prediction = Prediction.objects.get(pk=result["id"])
    assert prediction.user == user and prediction.image is not None
    assert client_a.get(result["url"]).json()["classes"] == result["classes"]


def test_several_photos_in_the_request_language(client_a):
    response = client_a.post(
        URL,
        {"file": _files("coffee.png", "camera.png"), "top_k": 2, "min_confidence": "0.01"},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 201
    first, second = response.json()["results"]
    assert first["classes"][0]["name"] == "café exprés"
    assert second["classes"][0]["name"] == "trípode"
    assert len(first["classes"]) <= 2
    assert all(c["probability"] >= 0.01 for c in first["classes"] + second["classes"])


def test_json_with_base64(client_a):
    body = {
        "images": [{"name": "cup.png", "data": base64.b64encode(photo("coffee.png")).decode()}],
        "top_k": 1,
        "store": False,
    }
    response = client_a.post(URL, body, format="json")
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["original_name"] == "cup.png"
    assert result["image_url"] is None
    assert [c["key"] for c in result["classes"]] == ["n07920052"]


def test_not_keeping_the_image_stores_only_the_result(client_a):
    before = _media_files()
    response = client_a.post(
        URL, {"file": _files("coffee.png"), "store": "false"}, format="multipart"
    )
    assert response.status_code == 200
    assert Prediction.objects.count() == 1
    assert not Image.objects.exists()
    assert _media_files() == before


def test_stored_images_lose_their_exif_and_get_random_names(client_a, user):
    exif = PILImage.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    exif[0x8825] = {2: (40.0, 26.0, 46.0)}  # GPS latitude
    data = jpeg(800, 600, exif=exif.tobytes())
    assert PILImage.open(io.BytesIO(data)).getexif()
    response = client_a.post(
        URL, {"file": [SimpleUploadedFile("home.jpg", data)]}, format="multipart"
    )
    assert response.status_code == 201
    stored = Image.objects.get(user=user)
    assert "home" not in stored.file.name
    with stored.file.open("rb") as handle:
        reopened = PILImage.open(handle)
        assert not reopened.getexif()
        assert reopened.size == (800, 600)
    image_url = response.json()["results"][0]["image_url"]
    assert image_url.endswith(reverse("classification:image", args=[stored.pk]))


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "no_images"),
        ({"model": "no-such-alias"}, "unknown_model"),
        ({"model": "999999"}, "unknown_model"),
        ({"top_k": 0}, "invalid"),
        ({"min_confidence": 2}, "invalid"),
    ],
)
def test_bad_parameters(client_a, payload, code):
    files = {} if payload == {} else {"file": _files("coffee.png")}
    response = client_a.post(URL, {**files, **payload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Prediction.objects.exists()


def test_a_lone_bad_file_is_a_400_naming_it_and_stores_nothing(client_a):
    before = _media_files()
    files = [SimpleUploadedFile("notes.jpg", b"<html>not a photo</html>")]
    response = client_a.post(URL, {"file": files}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "not_an_image"
    assert error["message"].startswith("notes.jpg:")
    assert error["details"]["errors"] == [
        {
            "index": 0,
            "file": "notes.jpg",
            "code": "not_an_image",
            "message": "The file is not an image, or its format is not supported.",
        }
    ]
    assert not Prediction.objects.exists() and not Image.objects.exists()
    assert _media_files() == before


def test_too_many_files(client_a, settings):
    settings.CLASSIFY_MAX_FILES = 1
    response = client_a.post(URL, {"file": _files("coffee.png", "camera.png")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_images"


def test_size_limits_are_checked_while_reading(client_a, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 50_000
    big = SimpleUploadedFile("big.jpg", jpeg(2000, 1500))
    assert big.size > 50_000
    response = client_a.post(URL, {"file": [big]}, format="multipart")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    settings.UPLOAD_MAX_FILE_BYTES = 10**8
    settings.UPLOAD_MAX_REQUEST_BYTES = 200_000
    files = [SimpleUploadedFile(f"{i}.jpg", jpeg(1200, 900, seed=i)) for i in range(4)]
    response = client_a.post(URL, {"file": files}, format="multipart")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Prediction.objects.exists()


def test_list_filter_and_delete(client_a, user, imagenet_model, django_capture_on_commit_callbacks):
    for name in ("coffee.png", "camera.png", "chelsea.png"):
        client_a.post(URL, {"file": _files(name)}, format="multipart")
    listing = client_a.get(URL).json()
    assert listing["count"] == 3
    assert [r["original_name"] for r in listing["results"]] == [
        "chelsea.png",
        "camera.png",
        "coffee.png",
    ]
    assert client_a.get(URL, {"model": imagenet_model.pk}).json()["count"] == 3
    # Only a version this user has classified with is a choice (the page's menu).
    assert client_a.get(URL, {"model": imagenet_model.pk + 1000}).status_code == 400
    assert client_a.get(URL, {"since": "2999-01-01"}).json()["count"] == 0
    assert client_a.get(URL, {"since": "not-a-date"}).status_code == 400

    target = Prediction.objects.get(original_name="camera.png")
    image_name = target.image.file.name
    with django_capture_on_commit_callbacks(execute=True):  # files go after the commit
        response = client_a.delete(reverse("api:classification-detail", args=[target.pk]))
    assert response.status_code == 204
    assert not Prediction.objects.filter(pk=target.pk).exists()
    assert not default_storage.exists(image_name)


def test_other_users_get_404_everywhere(client_a, api_client, user):
    response = client_a.post(URL, {"file": _files("coffee.png")}, format="multipart")
    prediction_id = response.json()["results"][0]["id"]
    other = UserFactory()
    api_client.force_authenticate(other)
    detail = reverse("api:classification-detail", args=[prediction_id])
    assert api_client.get(detail).status_code == 404
    assert api_client.delete(detail).status_code == 404
    assert api_client.get(URL).json()["count"] == 0
    assert Prediction.objects.filter(pk=prediction_id).exists()


def test_anonymous_is_401(api_client, imagenet_model):
    assert api_client.get(URL).status_code == 401
    assert (
        api_client.post(URL, {"file": _files("coffee.png")}, format="multipart").status_code == 401
    )


def test_token_authentication_works_for_classifying(api_client, user, imagenet_model):
    from accounts.services import api_token_create

    _token, key = api_token_create(user=user, name="script")
    response = api_client.post(
        URL, {"file": _files("camera.png")}, format="multipart", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 201


def test_classify_is_throttled_per_user(client_a, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "classify": "2/minute"}
    data = encode(PILImage.new("RGB", (64, 64)), "PNG")
    codes = [
        client_a.post(
            URL, {"file": [SimpleUploadedFile("x.png", data)], "store": "false"}, format="multipart"
        ).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    response = client_a.post(URL, {"file": [SimpleUploadedFile("x.png", data)]}, format="multipart")
    assert response.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in response
