"""A token limited to one classifier: it classifies only with that classifier,
manages only that one and reads only the history made with it; shared models
and the user's other classifiers answer 403 ``classifier_not_allowed``."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services
from classification import services as classification
from classification.models import Prediction
from evaluation.models import Evaluation, EvaluationSet
from models_registry.models import ModelVersion
from tests.conftest import photo
from tests.models_registry.factories import LabelSetFactory
from training import services as training
from training.models import TrainingRun

pytestmark = pytest.mark.django_db


def _trained(user, imagenet_model, name: str):
    """A classifier whose version runs the ImageNet network (as a real training
    run would register its own): enough to classify with it for real."""
    classifier = training.classifier_create(user=user, name=name, class_names=["a", "b"])
    version = ModelVersion.objects.get(pk=imagenet_model.pk)
    version.pk = None
    version.name, version.owner, version.source = name, user, ModelVersion.Source.TRAINING
    version.save()
    TrainingRun.objects.create(
        classifier=classifier, user=user, number=1, model_version=version, status="succeeded"
    )
    classifier.active_version = version
    classifier.save()
    return classifier, version


@pytest.fixture
def setup(api_client, user, imagenet_model):
    soils, soils_version = _trained(user, imagenet_model, "Soils")
    birds, birds_version = _trained(user, imagenet_model, "Birds")
    _token, key = services.api_token_create(user=user, name="field kit", classifier=soils)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api_client, soils, soils_version, birds, birds_version


def _classify(api_client, model):
    return api_client.post(
        "/api/v1/classifications/",
        {"model": model, "file": [SimpleUploadedFile("c.png", photo("coffee.png"))]},
        format="multipart",
    )


def _refused(response, classifier) -> bool:
    error = response.json()["error"]
    return (
        response.status_code == 403
        and error["code"] == "classifier_not_allowed"
        and error["classifier"] == classifier.pk
        and classifier.name in error["message"]
    )


def test_it_classifies_only_with_its_classifier(setup):
    api_client, soils, soils_version, _birds, birds_version = setup
    assert _classify(api_client, soils_version.pk).status_code == 201
    assert _refused(_classify(api_client, birds_version.pk), soils)
    assert _refused(_classify(api_client, "default"), soils)  # a shared model
    batch = api_client.post(
        "/api/v1/batches/",
        {"file": [SimpleUploadedFile("c.png", photo("coffee.png"))]},
        format="multipart",
    )
    assert _refused(batch, soils)


def test_it_manages_only_its_classifier(setup):
    api_client, soils, soils_version, birds, birds_version = setup
    listed = api_client.get("/api/v1/classifiers/").json()
    assert [c["id"] for c in listed["results"]] == [soils.pk]
    assert api_client.get(f"/api/v1/classifiers/{soils.pk}/").status_code == 200
    assert _refused(api_client.get(f"/api/v1/classifiers/{birds.pk}/"), soils)
    assert _refused(api_client.delete(f"/api/v1/classifiers/{birds.pk}/"), soils)
    assert _refused(api_client.post(f"/api/v1/classifiers/{birds.pk}/train/"), soils)
    created = api_client.post("/api/v1/classifiers/", {"name": "New", "classes": ["x", "y"]})
    assert _refused(created, soils)
    run = TrainingRun.objects.get(classifier=birds)
    assert _refused(api_client.get(f"/api/v1/training-runs/{run.pk}/"), soils)
    assert _refused(api_client.get(f"/api/v1/models/{birds_version.pk}/download/labels/"), soils)
    assert api_client.get(f"/api/v1/models/{soils_version.pk}/download/labels/").status_code == 200
    assert birds.__class__.objects.filter(pk=birds.pk).exists()  # nothing deleted


def test_it_reads_only_the_history_made_with_its_classifier(setup, user):
    api_client, _soils, soils_version, _birds, birds_version = setup
    upload = classification.Upload("c.png", photo("coffee.png"))
    for version in (soils_version, birds_version):
        classification.classify_uploads_each(user=user, uploads=[upload], version=version)
    listed = api_client.get("/api/v1/classifications/").json()["results"]
    assert [p["model"]["id"] for p in listed] == [soils_version.pk]
    other = Prediction.objects.get(model_version=birds_version)
    assert api_client.get(f"/api/v1/classifications/{other.pk}/").status_code == 404


def test_another_users_classifier_cannot_be_chosen(user, other_user, imagenet_model):
    theirs, _version = _trained(other_user, imagenet_model, "Theirs")
    with pytest.raises(services.ApplicationError) as error:
        services.api_token_create(user=user, name="x", classifier=theirs)
    assert error.value.status == 404


def test_deleting_the_classifier_revokes_its_tokens(user, imagenet_model):
    soils, _version = _trained(user, imagenet_model, "Soils")
    token, _key = services.api_token_create(user=user, name="kit", classifier=soils)
    training.classifier_delete(classifier=soils)
    assert not type(token).objects.filter(pk=token.pk).exists()


def test_it_reads_and_starts_evaluations_of_its_classifier_only(setup, user):
    api_client, soils, soils_version, birds, birds_version = setup
    for version in (soils_version, birds_version):  # each its own classes, as trained ones
        version.label_set = LabelSetFactory(name=version.name, owner=user)
        version.save(update_fields=["label_set"])
    sets = {
        version: EvaluationSet.objects.create(
            name=version.name, label_set=version.label_set, owner=user, user=user
        )
        for version in (soils_version, birds_version)
    }
    for version, evaluation_set in sets.items():
        Evaluation.objects.create(version=version, evaluation_set=evaluation_set, requested_by=user)
    listed = api_client.get("/api/v1/evaluation-sets/").json()["results"]
    assert [row["id"] for row in listed] == [sets[soils_version].pk]
    listed = api_client.get("/api/v1/evaluations/").json()["results"]
    assert [row["id"] for row in listed] == [Evaluation.objects.get(version=soils_version).pk]
    other = Evaluation.objects.get(version=birds_version)
    assert api_client.get(f"/api/v1/evaluations/{other.pk}/").status_code == 404
    started = api_client.post(
        "/api/v1/evaluations/",
        {"model": birds_version.pk, "evaluation_set": sets[birds_version].pk},
        format="json",
    )
    assert _refused(started, soils)
    made = api_client.post(
        "/api/v1/evaluation-sets/",
        {"name": "x", "classifier": birds.pk, "archive": SimpleUploadedFile("a.zip", b"PK")},
        format="multipart",
    )
    assert _refused(made, soils)
