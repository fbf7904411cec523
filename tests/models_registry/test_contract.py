"""A contract when a model changes: ``expected_version`` on classify, the label
differences between two versions, and an alias's public history."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.services import api_token_create
from classification.models import Prediction
from models_registry import services
from models_registry.label_files import LabelData
from models_registry.models import ModelVersion
from tests.accounts.factories import UserFactory
from tests.conftest import photo

pytestmark = pytest.mark.django_db


def _copy(original: ModelVersion, /, **changes) -> ModelVersion:
    """Another version running the same network (as a retrained one would)."""
    copy = ModelVersion.objects.get(pk=original.pk)
    copy.pk = None
    copy.version = original.version + 1
    for name, value in changes.items():
        setattr(copy, name, value)
    copy.save()
    return copy


def _classify(api_client, **data):
    files = {"file": [SimpleUploadedFile("coffee.png", photo("coffee.png"))]}
    return api_client.post("/api/v1/classifications/", {**data, **files}, format="multipart")


def test_expected_version_answers_412_once_the_alias_moved(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    assert _classify(api_client, expected_version=imagenet_model.pk).status_code == 201
    candidate = _copy(imagenet_model)
    services.model_alias_point(alias="default", version=candidate)

    before = Prediction.objects.count()
    response = _classify(api_client, expected_version=imagenet_model.pk)
    assert response.status_code == 412
    error = response.json()["error"]
    assert error["code"] == "version_changed"
    assert error["details"] == {
        "model": "default",
        "expected_version": imagenet_model.pk,
        "current_version": candidate.pk,
    }
    assert f"now model version {candidate.pk} (EfficientNet-Lite0 v2)" in error["message"]
    assert Prediction.objects.count() == before  # nothing classified

    spanish = _classify(api_client, expected_version=imagenet_model.pk, store="false")
    assert spanish.status_code == 412
    spanish = api_client.post(
        "/api/v1/classifications/preview/",
        {"expected_version": imagenet_model.pk, "file": [SimpleUploadedFile("c.png", b"x")]},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert (
        spanish.status_code == 412 and "ahora es la versión" in spanish.json()["error"]["message"]
    )

    assert _classify(api_client, expected_version=candidate.pk).status_code == 201
    assert _classify(api_client).status_code == 201  # without it, as before


def test_expected_version_with_a_version_id(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    response = _classify(api_client, model=imagenet_model.pk, expected_version=imagenet_model.pk)
    assert response.status_code == 201
    response = _classify(api_client, model=imagenet_model.pk, expected_version=999)
    assert response.status_code == 412
    response = _classify(api_client, expected_version="two")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def _labels(rows):
    return [LabelData(key=k, name=n, translations={"es": es}) for k, n, es in rows]


@pytest.fixture
def two_versions(imagenet_model):
    first = services.label_set_create(
        name="pets",
        labels=_labels([("cat", "cat", "gato"), ("dog", "dog", "perro"), ("bird", "bird", "ave")]),
    )
    second = services.label_set_create(
        name="pets",
        labels=_labels(
            [("dog", "dog", "perro"), ("cat", "kitty", "gatito"), ("fish", "fish", "pez")]
        ),
    )
    a = _copy(imagenet_model, name="Pets", label_set=first, version=1)
    b = _copy(imagenet_model, name="Pets", label_set=second, version=2)
    return a, b


def test_label_diff_between_two_versions(api_client, user, two_versions):
    a, b = two_versions
    _token, key = api_token_create(user=user, name="client", scopes=["classify"])
    url = reverse("api:model-version-label-diff", args=[a.pk, b.pk])
    response = api_client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    diff = response.json()
    assert (diff["before"], diff["after"], diff["same_label_set"]) == (a.pk, b.pk, False)
    assert diff["added"] == [{"key": "fish", "index": 2, "name": "fish", "localized_name": "pez"}]
    assert [row["key"] for row in diff["removed"]] == ["bird"]
    assert diff["renamed"] == [
        {
            "key": "cat",
            "from_name": "cat",
            "to_name": "kitty",
            "from_localized_name": "gato",
            "to_localized_name": "gatito",
        }
    ]
    assert diff["moved"] == [
        {"key": "dog", "from_index": 1, "to_index": 0},
        {"key": "cat", "from_index": 0, "to_index": 1},
    ]
    assert diff["unchanged"] == 0

    same = api_client.get(
        reverse("api:model-version-label-diff", args=[a.pk, a.pk]),
        HTTP_AUTHORIZATION=f"Bearer {key}",
    ).json()
    assert same["same_label_set"] and same["unchanged"] == 3
    assert same["added"] == same["removed"] == same["renamed"] == same["moved"] == []


def test_label_diff_only_between_versions_the_user_may_see(
    api_client, user, other_user, two_versions
):
    a, _b = two_versions
    private = _copy(a, owner=other_user, source=ModelVersion.Source.TRAINING)
    api_client.force_authenticate(user)
    response = api_client.get(reverse("api:model-version-label-diff", args=[a.pk, private.pk]))
    assert response.status_code == 404
    _token, key = api_token_create(user=user, name="reader", scopes=["history:read"])
    api_client.force_authenticate(None)
    refused = api_client.get(
        reverse("api:model-version-label-diff", args=[a.pk, a.pk]),
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert refused.status_code == 403 and refused.json()["error"]["scope"] == "classify"


def test_an_aliases_history_never_shows_staff_addresses(api_client, user, imagenet_model):
    staff = UserFactory(is_staff=True, email="release-manager@example.org")
    candidate = _copy(imagenet_model)
    services.model_alias_point(alias="default", version=candidate, user=staff)
    services.model_alias_point(
        alias="default",
        version=imagenet_model,
        user=staff,
        based_on={"replay": 1, "changed": 2, "decided_by": staff.email},
    )
    _token, key = api_token_create(user=user, name="client", scopes=["classify"])
    response = api_client.get(
        reverse("api:alias-detail", args=["default"]), HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 200
    history = response.json()["history"]
    assert [move["to_version"] for move in history][:2] == [str(imagenet_model), str(candidate)]
    assert all(move["changed_by"] is None for move in history)
    assert history[0]["based_on"] == {"replay": 1, "changed": 2}
    assert "release-manager" not in response.content.decode()
    assert "@" not in response.content.decode()
