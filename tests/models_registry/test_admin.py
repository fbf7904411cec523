"""The admin loop: upload a label set and a model, watch it validate,
activate it, roll back, and read the history."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from models_registry.models import AliasChange, LabelSet, ModelAlias, ModelVersion
from tests.accounts.factories import UserFactory
from tests.models_registry.keras_files import tiny_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_full_admin_loop(
    admin_client, imagenet_model, tmp_path, django_capture_on_commit_callbacks
):
    response = admin_client.post(
        reverse("admin:models_registry_labelset_add"),
        {
            "name": "shapes",
            "description": "three shapes",
            "labels_file": SimpleUploadedFile("shapes.txt", b"square\ncircle\ntriangle\n"),
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    label_set = LabelSet.objects.get(name="shapes")
    page = admin_client.get(reverse("admin:models_registry_labelset_change", args=[label_set.pk]))
    assert "triangle" in page.content.decode()

    model = tiny_model(tmp_path / "shapes.keras")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:models_registry_modelversion_add"),
            {
                "name": "shapes-net",
                "label_set": label_set.pk,
                "upload": SimpleUploadedFile("shapes.keras", model.read_bytes()),
                "notes": "",
            },
        )
    assert response.status_code == 302
    version = ModelVersion.objects.get(name="shapes-net")
    assert version.status == "ready", version.error
    page = admin_client.get(reverse("admin:models_registry_modelversion_change", args=[version.pk]))
    assert 'data-status="ready"' in page.content.decode()
    assert "onnx_max_abs_diff" in page.content.decode()

    changelist = reverse("admin:models_registry_modelversion_changelist")
    response = admin_client.post(
        changelist, {"action": "activate_as_default", "_selected_action": [version.pk]}, follow=True
    )
    assert "now points at shapes-net v1" in response.content.decode()
    assert ModelAlias.objects.get(name="default").version == version

    alias = ModelAlias.objects.get(name="default")
    response = admin_client.post(
        reverse("admin:models_registry_modelalias_changelist"),
        {"action": "roll_back", "_selected_action": [alias.pk]},
        follow=True,
    )
    assert "is back on EfficientNet-Lite0 v1" in response.content.decode()
    alias.refresh_from_db()
    assert alias.version == imagenet_model
    page = admin_client.get(reverse("admin:models_registry_modelalias_change", args=[alias.pk]))
    assert page.content.decode().count("shapes-net v1") >= 2  # both moves in the history
    assert AliasChange.objects.count() == 3


def test_admin_shows_upload_errors_and_stores_nothing(admin_client, imagenet_model):
    response = admin_client.post(
        reverse("admin:models_registry_modelversion_add"),
        {
            "name": "broken",
            "label_set": imagenet_model.label_set_id,
            "upload": SimpleUploadedFile("broken.keras", b"not a zip"),
        },
        follow=True,
    )
    assert "not a .keras model file" in response.content.decode()
    assert not ModelVersion.objects.filter(name="broken").exists()


def test_unready_versions_cannot_be_activated_from_the_admin(admin_client, imagenet_model):
    ModelVersion.objects.filter(pk=imagenet_model.pk).update(status="validating")
    response = admin_client.post(
        reverse("admin:models_registry_modelversion_changelist"),
        {"action": "activate_as_default", "_selected_action": [imagenet_model.pk]},
        follow=True,
    )
    assert "Only a ready model version can be activated" in response.content.decode()


def test_the_admin_page_refreshes_while_validating(admin_client, imagenet_model):
    ModelVersion.objects.filter(pk=imagenet_model.pk).update(status="validating")
    page = admin_client.get(
        reverse("admin:models_registry_modelversion_change", args=[imagenet_model.pk])
    ).content.decode()
    assert 'data-status="validating"' in page
    assert "models_registry/admin_refresh.js" in page


def test_non_staff_cannot_reach_the_registry_admin(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:models_registry_modelversion_changelist"), follow=True)
    assert response.status_code == 403
