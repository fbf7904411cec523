"""Every file answered on its own: the service, the API (classify and preview)
and the OpenAPI schema that documents the per-file answer."""

import base64
from pathlib import Path

import jsonschema
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from classification import services
from classification.models import Image, Prediction
from core.exceptions import ApplicationError
from tests.classification.images import jpeg
from tests.conftest import photo

pytestmark = pytest.mark.django_db
URL = "/api/v1/classifications/"
PREVIEW_URL = "/api/v1/classifications/preview/"
NOT_AN_IMAGE = "The file is not an image, or its format is not supported."


def _media_files() -> set[str]:
    root = Path(default_storage.location) / "images"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _mixed() -> list[services.Upload]:
    """The issue's example: a cat, a text file and an empty "photo"."""
    return [
        services.Upload("cat.jpg", photo("chelsea.png")),
        services.Upload("notes.txt", b"shopping list: milk, bread"),
        services.Upload("empty.jpg", b""),
    ]


def _mixed_files() -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(upload.name, upload.data) for upload in _mixed()]


@pytest.fixture
def client_a(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    return api_client


# The service
# ------------------------------------------------------------------------------


def test_service_classifies_the_good_files_and_lists_the_others(user, imagenet_model):
    before = _media_files()
    outcome = services.classify_uploads_each(
        user=user, uploads=_mixed(), version=imagenet_model, store=True
    )
    (cat,) = outcome.predictions
    assert cat.pk and cat.upload_index == 0 and cat.original_name == "cat.jpg"
    assert cat.top_key in {"n02124075", "n02123159", "n02123045"}  # Mau, tiger or tabby cat
    assert cat.image is not None
    assert [(e.upload_index, e.file, e.code) for e in outcome.errors] == [
        (1, "notes.txt", "not_an_image"),
        (2, "empty.jpg", "empty_file"),
    ]
    assert outcome.errors[1].message == "The file is empty."  # the reason, not the name
    assert [getattr(i, "file", None) or i.original_name for i in outcome.in_upload_order()] == [
        "cat.jpg",
        "notes.txt",
        "empty.jpg",
    ]
    assert Prediction.objects.count() == 1 and Image.objects.count() == 1
    assert len(_media_files() - before) == 2  # the image and its thumbnail, nothing else


def test_service_with_no_good_file_stores_nothing_and_names_every_file(user, imagenet_model):
    before = _media_files()
    with pytest.raises(ApplicationError) as raised:
        services.classify_uploads_each(user=user, uploads=_mixed()[1:], version=imagenet_model)
    error = raised.value
    assert (error.code, error.status) == ("no_image_classified", 400)
    assert [e["file"] for e in error.extra["errors"]] == ["notes.txt", "empty.jpg"]
    assert [e["index"] for e in error.extra["errors"]] == [0, 1]
    assert not Prediction.objects.exists() and _media_files() == before


def test_service_request_limits_still_fail_the_whole_call(user, imagenet_model, settings):
    uploads = [services.Upload(f"{i}.jpg", jpeg(1000, 800, seed=i)) for i in range(3)]
    settings.UPLOAD_MAX_REQUEST_PIXELS = 1_500_000  # the first image fits, the second does not
    with pytest.raises(ApplicationError) as raised:
        services.classify_uploads_each(user=user, uploads=uploads, version=imagenet_model)
    assert (raised.value.code, raised.value.status) == ("too_many_pixels", 413)
    settings.UPLOAD_MAX_REQUEST_PIXELS = 10**9
    settings.UPLOAD_MAX_FILE_BYTES = len(uploads[0].data) - 1
    with pytest.raises(ApplicationError) as raised:
        services.classify_uploads_each(user=user, uploads=uploads, version=imagenet_model)
    assert (raised.value.code, raised.value.status) == ("file_too_large", 413)
    settings.CLASSIFY_MAX_FILES = 2
    with pytest.raises(ApplicationError) as raised:
        services.classify_uploads_each(user=user, uploads=uploads, version=imagenet_model)
    assert raised.value.code == "too_many_images"
    assert not Prediction.objects.exists() and not Image.objects.exists()


def test_all_or_nothing_stays_for_batch_items(user, imagenet_model):
    before = _media_files()
    with pytest.raises(ApplicationError) as raised:
        services.classify_uploads(user=user, uploads=_mixed(), version=imagenet_model)
    assert raised.value.code == "not_an_image"
    assert raised.value.message.startswith("notes.txt:")
    assert not Prediction.objects.exists() and _media_files() == before


def test_preview_writes_nothing(user, imagenet_model):
    before = _media_files()
    outcome = services.classify_preview(user=user, uploads=_mixed(), version=imagenet_model)
    (cat,) = outcome.predictions
    assert cat.pk is None and cat.image is None and cat.results[0]["probability"] > 0.2
    assert [e.file for e in outcome.errors] == ["notes.txt", "empty.jpg"]
    assert not Prediction.objects.exists() and not Image.objects.exists()
    assert _media_files() == before


# The API
# ------------------------------------------------------------------------------


def test_api_answers_each_file_in_the_request_language(client_a, user):
    response = client_a.post(
        URL, {"file": _mixed_files()}, format="multipart", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    (cat,) = body["results"]
    assert cat["index"] == 0 and cat["original_name"] == "cat.jpg"
    assert Prediction.objects.get(user=user).pk == cat["id"]
    assert body["errors"] == [
        {
            "index": 1,
            "file": "notes.txt",
            "code": "not_an_image",
            "message": "El archivo no es una imagen o su formato no es compatible.",
        },
        {
            "index": 2,
            "file": "empty.jpg",
            "code": "empty_file",
            "message": "El archivo está vacío.",
        },
    ]


def test_api_json_answers_each_image_without_keeping_them(client_a):
    body = {
        "images": [
            {"name": "broken.png", "data": base64.b64encode(b"\x89PNG broken").decode()},
            {"name": "cup.png", "data": base64.b64encode(photo("coffee.png")).decode()},
        ],
        "store": False,
    }
    response = client_a.post(URL, body, format="json")
    assert response.status_code == 200
    answer = response.json()
    assert [(r["index"], r["classes"][0]["key"]) for r in answer["results"]] == [(1, "n07920052")]
    assert [(e["index"], e["file"]) for e in answer["errors"]] == [(0, "broken.png")]
    assert answer["errors"][0]["code"] in {"not_an_image", "corrupt_image"}
    assert Prediction.objects.count() == 1 and not Image.objects.exists()


def test_api_with_no_good_file_is_one_400_with_every_reason(client_a):
    before = _media_files()
    response = client_a.post(URL, {"file": _mixed_files()[1:]}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "no_image_classified"
    assert error["message"] == "None of the files could be classified."
    assert error["details"]["errors"] == [
        {"index": 0, "file": "notes.txt", "code": "not_an_image", "message": NOT_AN_IMAGE},
        {"index": 1, "file": "empty.jpg", "code": "empty_file", "message": "The file is empty."},
    ]
    assert not Prediction.objects.exists() and _media_files() == before


def test_api_a_file_past_the_size_limit_fails_the_whole_request(client_a, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 50_000
    files = [SimpleUploadedFile("cat.jpg", photo("chelsea.png")), *_mixed_files()[1:]]
    files.append(SimpleUploadedFile("big.jpg", jpeg(2000, 1500)))
    response = client_a.post(URL, {"file": files}, format="multipart")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert not Prediction.objects.exists()


def test_preview_api_answers_each_file_and_stores_nothing(client_a):
    before = _media_files()
    response = client_a.post(PREVIEW_URL, {"file": _mixed_files(), "top_k": 3}, format="multipart")
    assert response.status_code == 200, response.json()
    body = response.json()
    (cat,) = body["results"]
    assert set(cat) == {
        "index",
        "original_name",
        "model",
        "label_set",
        "classes",
        "hedged",
        "none_of_these",
        "precision",
    }
    assert cat["precision"] == "fp32"  # the tests build no int8 variants unless they ask
    assert len(cat["classes"]) == 3 and cat["model"]["name"] == "EfficientNet-Lite0"
    assert [e["file"] for e in body["errors"]] == ["notes.txt", "empty.jpg"]
    assert not Prediction.objects.exists() and not Image.objects.exists()
    assert _media_files() == before
    alone = client_a.post(
        PREVIEW_URL, {"file": [SimpleUploadedFile("notes.txt", b"text")]}, format="multipart"
    )
    assert alone.status_code == 400 and alone.json()["error"]["code"] == "not_an_image"


def test_preview_api_shares_the_classify_rate_limit_and_needs_a_user(
    client_a, api_client, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "classify": "2/minute"}
    frame = {"file": [SimpleUploadedFile("frame.jpg", jpeg(320, 240))]}
    assert client_a.post(URL, frame, format="multipart").status_code == 201
    frame = {"file": [SimpleUploadedFile("frame.jpg", jpeg(320, 240))]}
    assert client_a.post(PREVIEW_URL, frame, format="multipart").status_code == 200
    frame = {"file": [SimpleUploadedFile("frame.jpg", jpeg(320, 240))]}
    limited = client_a.post(PREVIEW_URL, frame, format="multipart")
    assert limited.status_code == 429 and "Retry-After" in limited
    api_client.force_authenticate(None)
    assert api_client.post(PREVIEW_URL, {}, format="multipart").status_code == 401


def test_preview_api_refuses_someone_elses_classifier(client_a, other_user):
    from models_registry.models import ModelVersion
    from tests.models_registry.factories import LabelSetFactory

    version = ModelVersion.objects.create(
        name="Their soils",
        label_set=LabelSetFactory(name="soils", owner=other_user),
        source=ModelVersion.Source.TRAINING,
        status=ModelVersion.Status.READY,
        sha256="0" * 64,
        onnx_sha256="1" * 64,
        owner=other_user,
    )
    frame = {"file": [SimpleUploadedFile("frame.jpg", jpeg(320, 240))], "model": version.pk}
    response = client_a.post(PREVIEW_URL, frame, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_model"


# The schema documents what the API answers
# ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _check(openapi, path: str, status: int, body: dict) -> None:
    operation = openapi["paths"][path]["post"]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": openapi["components"]})


def test_answers_match_the_schema(client_a, openapi):
    created = client_a.post(URL, {"file": _mixed_files()}, format="multipart")
    _check(openapi, URL, 201, created.json())
    preview = client_a.post(PREVIEW_URL, {"file": _mixed_files()}, format="multipart")
    _check(openapi, PREVIEW_URL, 200, preview.json())
    refused = client_a.post(URL, {"file": _mixed_files()[1:]}, format="multipart")
    _check(openapi, URL, 400, refused.json())
    components = openapi["components"]["schemas"]
    assert set(components["ClassifyResponse"]["required"]) == {"results", "errors"}
    assert set(components["FileError"]["properties"]) == {"index", "file", "code", "message"}
    # A schema that does not match would be caught: a missing "errors" fails.
    with pytest.raises(jsonschema.ValidationError):
        _check(openapi, URL, 201, {"results": created.json()["results"]})
