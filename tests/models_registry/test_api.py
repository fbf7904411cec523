"""Registry API: read-only for users, writes for staff."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from models_registry.models import LabelSet, ModelAlias, ModelVersion
from tests.accounts.factories import UserFactory
from tests.models_registry.factories import LabelSetFactory
from tests.models_registry.keras_files import tiny_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def test_anonymous_gets_401(api_client):
    for name in ("api:label-set-list", "api:model-version-list", "api:alias-list"):
        assert api_client.get(reverse(name)).status_code == 401


def test_users_read_label_sets_models_and_aliases(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    sets = api_client.get(reverse("api:label-set-list")).json()
    assert sets["count"] == 1 and sets["results"][0]["label_count"] == 1000
    labels = api_client.get(
        reverse("api:label-list", args=[imagenet_model.label_set_id]), HTTP_ACCEPT_LANGUAGE="es"
    ).json()
    assert labels["count"] == 1000
    assert labels["results"][0] == {
        "index": 0,
        "key": "n01440764",
        "name": "tench",
        "localized_name": "tenca",
        "translations": {"es": "tenca"},
        "members": [],
        "catch_all": False,
    }
    models = api_client.get(reverse("api:model-version-list")).json()
    assert [m["name"] for m in models["results"]] == ["EfficientNet-Lite0"]
    assert models["results"][0]["aliases"] == ["default"]
    alias = api_client.get(reverse("api:alias-detail", args=["default"])).json()
    assert alias["version"]["id"] == imagenet_model.pk
    assert alias["history"][0]["action"] == "activate"


def test_users_do_not_see_unready_versions(api_client, user, imagenet_model):
    ModelVersion.objects.filter(pk=imagenet_model.pk).update(status="validating")
    api_client.force_authenticate(user)
    assert api_client.get(reverse("api:model-version-list")).json()["count"] == 0
    detail = reverse("api:model-version-detail", args=[imagenet_model.pk])
    assert api_client.get(detail).status_code == 404


def test_users_cannot_write(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    upload = SimpleUploadedFile("l.txt", b"a\nb\n")
    assert (
        api_client.post(reverse("api:label-set-list"), {"name": "x", "file": upload}).status_code
        == 403
    )
    response = api_client.post(
        reverse("api:alias-activate", args=["default"]), {"version": imagenet_model.pk}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert api_client.post(reverse("api:alias-rollback", args=["default"])).status_code == 403


def test_staff_upload_label_set_and_model_then_activate_and_roll_back(
    api_client, staff, imagenet_model, tmp_path, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(staff)
    response = api_client.post(
        reverse("api:label-set-list"),
        {
            "name": "shapes",
            "file": SimpleUploadedFile(
                "s.csv", b"sq,square,cuadrado\nci,circle,circulo\nt,triangle,triangulo\n"
            ),
        },
    )
    assert response.status_code == 201, response.json()
    label_set = LabelSet.objects.get(name="shapes")
    assert label_set.labels.get(key="ci").translations == {"es": "circulo"}

    model = tiny_model(tmp_path / "shapes.keras")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            reverse("api:model-version-list"),
            {
                "name": "shapes-net",
                "label_set": label_set.pk,
                "file": SimpleUploadedFile("shapes.keras", model.read_bytes()),
            },
        )
    assert response.status_code == 202, response.json()
    version = ModelVersion.objects.get(name="shapes-net")
    assert response["Location"] == reverse("api:model-version-detail", args=[version.pk])
    version.refresh_from_db()
    assert version.status == "ready", version.error  # the task ran (inline backend in tests)

    response = api_client.post(
        reverse("api:alias-activate", args=["default"]), {"version": version.pk}
    )
    assert response.status_code == 200
    assert ModelAlias.objects.get(name="default").version == version
    response = api_client.post(reverse("api:alias-rollback", args=["default"]))
    assert response.status_code == 200
    assert response.json()["version"]["id"] == imagenet_model.pk


def test_staff_bad_uploads_get_clear_errors(api_client, staff):
    api_client.force_authenticate(staff)
    label_set = LabelSetFactory()
    response = api_client.post(
        reverse("api:model-version-list"),
        {"name": "x", "label_set": label_set.pk, "file": SimpleUploadedFile("x.keras", b"hello")},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_keras"
    response = api_client.post(
        reverse("api:label-set-list"), {"name": "x", "file": SimpleUploadedFile("x.txt", b"one")}
    )
    assert response.status_code == 400
    assert "at least two" in response.json()["error"]["message"]
    response = api_client.post(reverse("api:alias-activate", args=["default"]), {"version": 999999})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not ModelVersion.objects.exists()
