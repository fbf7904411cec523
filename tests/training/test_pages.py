"""The classifier pages without a browser: every form posts to a service, and
names (user data) are escaped everywhere."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.training.examples import TEXTURES, texture_zip
from training.models import Classifier

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, user, imagenet_model):
    client.force_login(user)
    return client


def test_create_upload_train_and_read_the_metrics(web, django_capture_on_commit_callbacks):
    response = web.post(
        "/classifiers/", {"name": "Suelos <i>", "classes": "\n".join([*TEXTURES, "<b>x</b>"])}
    )
    assert response.status_code == 302
    classifier = Classifier.objects.get()
    page = web.get(response["Location"]).content.decode()
    assert "Suelos &lt;i&gt;" in page and "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert page.count("Fewer than 5") == 4

    # The odd class goes; the zip fills the rest.
    bad = classifier.classes.get(name="<b>x</b>")
    web.post(f"/classifiers/{classifier.pk}/classes/{bad.pk}/delete/")
    with django_capture_on_commit_callbacks(execute=True):  # the import runs inline here
        response = web.post(
            f"/classifiers/{classifier.pk}/examples/",
            {"archive": SimpleUploadedFile("ex.zip", texture_zip(6))},
        )
    page = web.get(response["Location"]).content.decode()
    assert "The zip holds 18 photos; they are being checked and added." in page
    assert "18 of 18 photos checked: 18 added, 0 already there, 0 refused." in page
    assert "Fewer than 5" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(f"/classifiers/{classifier.pk}/train/")
    run = classifier.runs.get()
    assert response["Location"] == f"/classifiers/runs/{run.pk}/"
    page = web.get(response["Location"]).content.decode()
    assert 'data-testid="confusion"' in page and "Precision" in page
    assert f"?model={run.model_version_id}" in page

    # A cell of the matrix lists the validation photos behind it.
    cell = web.get(f"/classifiers/runs/{run.pk}/?true=0&predicted=0").content.decode()
    assert "answered as “ladrillo”" in cell
    assert cell.count("/classifiers/examples/") >= 1

    detail = web.get(f"/classifiers/{classifier.pk}/").content.decode()
    assert "Version 1 in use" in detail and "Photos answered" in detail
    classify = web.get(f"/classify/?model={run.model_version_id}").content.decode()
    assert f'value="{run.model_version_id}" selected' in classify
    assert "My classifiers" in classify


def test_spanish_pages(web, user):
    web.post("/classifiers/", {"name": "Frutas", "classes": "manzana\npera"})
    classifier = Classifier.objects.get()
    page = web.get(f"/classifiers/{classifier.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    html = page.content.decode()
    assert "Clases y ejemplos" in html and "Entrenar" in html


def test_errors_come_back_as_messages_and_other_users_get_404(web, other_user, client):
    response = web.post("/classifiers/", {"name": "x", "classes": "solo"})
    assert response.status_code == 400 and "at least 2 classes" in response.content.decode()
    web.post("/classifiers/", {"name": "Frutas", "classes": "manzana\npera"})
    classifier = Classifier.objects.get()
    response = web.post(f"/classifiers/{classifier.pk}/train/", follow=True)
    assert "at least 2 examples" in response.content.decode()
    response = web.post(
        f"/classifiers/{classifier.pk}/examples/",
        {"class": "manzana", "file": SimpleUploadedFile("m.jpg", b"nope")},
        follow=True,
    )
    assert "m.jpg" in response.content.decode()

    client.force_login(other_user)
    assert client.get(f"/classifiers/{classifier.pk}/").status_code == 404
    assert client.post(f"/classifiers/{classifier.pk}/train/").status_code == 404


def test_deleting_a_classifier(web):
    web.post("/classifiers/", {"name": "Frutas", "classes": "manzana\npera"})
    classifier = Classifier.objects.get()
    assert web.get(f"/classifiers/{classifier.pk}/delete/").status_code == 200
    response = web.post(f"/classifiers/{classifier.pk}/delete/")
    assert response.status_code == 302 and not Classifier.objects.exists()


def test_deleting_a_trained_classifier_takes_its_versions_and_results(
    trained, user, client, django_capture_on_commit_callbacks
):
    from pathlib import Path

    from django.conf import settings

    from classification.models import Prediction
    from classification.services import classify_uploads
    from core.uploads import Upload
    from models_registry.models import LabelSet, ModelVersion
    from tests.training.examples import crops

    classifier, run = trained
    version = run.model_version
    (prediction,) = classify_uploads(
        user=user, uploads=[Upload("b.jpg", crops("brick.png", 1)[0])], version=version
    )
    stored = [Path(settings.MEDIA_ROOT) / prediction.image.file.name]
    stored.append(Path(settings.MEDIA_ROOT) / version.onnx_file.name)
    client.force_login(user)
    history = client.get("/classify/history/").content.decode()
    assert "ladrillo" in history

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/classifiers/{classifier.pk}/delete/")
    assert response.status_code == 302
    assert not Prediction.objects.exists()
    assert not ModelVersion.objects.filter(pk=version.pk).exists()
    assert not LabelSet.objects.filter(owner__isnull=False).exists()
    assert not any(path.exists() for path in stored)


def test_staff_can_look_at_classifiers_and_runs(trained, client):
    from tests.accounts.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    _classifier, run = trained
    for url in (
        "/admin/training/classifier/",
        f"/admin/training/classifier/{run.classifier_id}/change/",
        "/admin/training/trainingrun/",
        f"/admin/training/trainingrun/{run.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url


def test_every_form_on_the_classifier_page(trained, user, client):
    from training.models import Example, TrainingRun

    classifier, run = trained
    client.force_login(user)
    base = f"/classifiers/{classifier.pk}"

    response = client.post(f"{base}/rename/", {"name": "Suelos"}, follow=True)
    assert "Renamed." in response.content.decode()
    classifier.refresh_from_db()
    assert classifier.name == "Suelos"
    assert (
        "Give the classifier a name."
        in client.post(f"{base}/rename/", {"name": ""}, follow=True).content.decode()
    )

    client.post(f"{base}/classes/", {"name": "arena"})
    assert classifier.classes.filter(name="arena").exists()
    again = client.post(f"{base}/classes/", {"name": "Arena"}, follow=True)
    assert "listed twice" in again.content.decode()

    cls = classifier.classes.get(name="ladrillo")
    page = client.get(f"{base}/classes/{cls.pk}/examples/")
    assert (
        page.status_code == 200 and page.content.decode().count('src="/classifiers/examples/') == 8
    )
    example = Example.objects.filter(classifier_class=cls).first()
    assert client.get(f"/classifiers/examples/{example.pk}.jpg").status_code == 200
    response = client.post(f"{base}/examples/{example.pk}/delete/")
    assert response["Location"] == f"{base}/classes/{cls.pk}/examples/"
    assert not Example.objects.filter(pk=example.pk).exists()

    response = client.post(f"{base}/threshold/", {"threshold": "0.7"}, follow=True)
    assert "Saved." in response.content.decode()
    run.model_version.refresh_from_db()
    assert run.model_version.confidence_threshold == 0.7
    bad = client.post(f"{base}/threshold/", {"threshold": "7"}, follow=True)
    assert "between 0 and 1" in bad.content.decode()

    response = client.post(f"{base}/use-version/", {"version": "nope"}, follow=True)
    assert "no such version" in response.content.decode()
    response = client.post(f"{base}/use-version/", {"version": run.model_version_id}, follow=True)
    assert "This version is now used" in response.content.decode()

    # A run being cancelled from its page.
    queued = TrainingRun.objects.create(classifier=classifier, user=user, number=2)
    response = client.post(f"/classifiers/runs/{queued.pk}/cancel/", follow=True)
    assert "being cancelled" in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    assert client.get("/classifiers/runs/999999/").status_code == 404


def test_staff_deleting_a_classifier_takes_its_versions(trained, client):
    from models_registry.models import ModelVersion
    from tests.accounts.factories import UserFactory

    classifier, run = trained
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/training/classifier/",
        {"action": "delete_selected", "_selected_action": [classifier.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ModelVersion.objects.filter(pk=run.model_version_id).exists()
