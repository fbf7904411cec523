"""What the registry API shows to whom: a user's own classifiers only to that
user (staff included), and who moved an alias only to staff."""

import pytest
from django.urls import reverse

from models_registry import services
from models_registry.models import ModelVersion
from tests.accounts.factories import UserFactory
from tests.models_registry.factories import LabelSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_version(user):
    return ModelVersion.objects.create(
        name="My secret soils",
        label_set=LabelSetFactory(name="soils", owner=user),
        source=ModelVersion.Source.TRAINING,
        status=ModelVersion.Status.READY,
        sha256="0" * 64,
        onnx_sha256="1" * 64,
        owner=user,
        metrics={"accuracy": 0.93},
    )


@pytest.mark.parametrize("who", ["staff", "superuser", "other"])
def test_nobody_else_sees_a_users_classifier(api_client, private_version, who):
    viewer = UserFactory(is_staff=who != "other", is_superuser=who == "superuser")
    api_client.force_authenticate(viewer)
    listed = api_client.get(reverse("api:model-version-list")).json()
    assert private_version.pk not in [m["id"] for m in listed["results"]]
    detail = api_client.get(reverse("api:model-version-detail", args=[private_version.pk]))
    assert detail.status_code == 404
    assert "My secret soils" not in detail.content.decode()


def test_the_owner_sees_their_classifier(api_client, user, private_version):
    api_client.force_authenticate(user)
    listed = api_client.get(reverse("api:model-version-list")).json()
    assert private_version.pk in [m["id"] for m in listed["results"]]
    detail = api_client.get(reverse("api:model-version-detail", args=[private_version.pk]))
    assert detail.json()["metrics"] == {"accuracy": 0.93}


def test_staff_still_see_shared_versions_in_any_status(api_client, imagenet_model):
    ModelVersion.objects.filter(pk=imagenet_model.pk).update(status="validating")
    api_client.force_authenticate(UserFactory(is_staff=True))
    detail = api_client.get(reverse("api:model-version-detail", args=[imagenet_model.pk]))
    assert detail.status_code == 200


def test_only_staff_learn_who_moved_an_alias(api_client, user, imagenet_model):
    staff = UserFactory(is_staff=True, email="ops-lead@example.org")
    services.model_alias_point(alias="fast", version=imagenet_model, user=staff)
    url = reverse("api:alias-detail", args=["fast"])

    api_client.force_authenticate(user)
    body = api_client.get(url)
    assert body.json()["history"][0]["changed_by"] is None
    assert "ops-lead@example.org" not in body.content.decode()

    api_client.force_authenticate(staff)
    assert api_client.get(url).json()["history"][0]["changed_by"] == "ops-lead@example.org"
