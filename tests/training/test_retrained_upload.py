"""The administrator's loop with a model trained elsewhere: a label set and a
.keras file (here: a classifier exported from this site, as a user would
download it) are uploaded, validated, activated as "default", used by everyone,
and rolled back."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from models_registry.models import LabelSet, ModelAlias, ModelVersion
from tests.accounts.factories import UserFactory
from tests.conftest import photo
from tests.training.examples import crops
from training.views import export_files

pytestmark = pytest.mark.django_db


def test_upload_activate_use_and_roll_back_a_retrained_model(
    trained, client, api_client, other_user, imagenet_model, django_capture_on_commit_callbacks
):
    _classifier, run = trained
    files = export_files(run)
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    client.post(
        reverse("admin:models_registry_labelset_add"),
        {
            "name": "soils",
            "labels_file": SimpleUploadedFile(
                "soils.csv",
                b"key,name,name_es\nbrick,brick,ladrillo\ngrass,grass,hierba\n"
                b"gravel,gravel,grava\n",
            ),
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:models_registry_modelversion_add"),
            {
                "name": "soils-net",
                "label_set": LabelSet.objects.get(name="soils").pk,
                "upload": SimpleUploadedFile("soils.keras", files["model.keras"]),
            },
        )
    assert response.status_code == 302
    version = ModelVersion.objects.get(name="soils-net")
    assert version.status == "ready", version.error
    assert version.preprocessing["output"] == "probabilities"  # it ends in softmax

    client.post(
        reverse("admin:models_registry_modelversion_changelist"),
        {"action": "activate_as_default", "_selected_action": [version.pk]},
    )
    api_client.force_authenticate(other_user)

    def classify(data: bytes) -> dict:
        response = api_client.post(
            "/api/v1/classifications/",
            {"file": [SimpleUploadedFile("p.jpg", data)]},
            format="multipart",
            HTTP_ACCEPT_LANGUAGE="es",
        )
        assert response.status_code == 201, response.json()
        return response.json()["results"][0]

    result = classify(crops("brick.png", 1, seed=500)[0])
    assert result["model"]["name"] == "soils-net"
    assert result["classes"][0]["name"] == "ladrillo"
    assert abs(sum(c["probability"] for c in result["classes"]) - 1) < 1e-3  # softmax once

    alias = ModelAlias.objects.get(name="default")
    client.post(
        reverse("admin:models_registry_modelalias_changelist"),
        {"action": "roll_back", "_selected_action": [alias.pk]},
    )
    result = classify(photo("coffee.png"))
    assert result["model"]["name"] == imagenet_model.name
    assert result["classes"][0]["name"] == "café exprés"
