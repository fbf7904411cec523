"""Custom classifiers trained for real: the pretrained backbone embeds the
examples, a Keras head is trained, and the exported ONNX model classifies."""

import io
import itertools
import json
import zipfile

import numpy as np
import pytest

from classification import inference
from classification import services as classification
from core.exceptions import ApplicationError
from core.uploads import Upload
from models_registry.models import ModelVersion
from tests.training.examples import TEXTURES, crops
from training import engine, selectors, services
from training.models import Example, TrainingRun
from training.views import export_files

pytestmark = pytest.mark.django_db


def test_training_makes_a_private_ready_version_that_recognises_new_photos(trained, user):
    classifier, run = trained
    version = run.model_version
    assert classifier.active_version == version
    assert version.is_ready and version.owner == user and version.label_set.owner == user
    assert version.source == ModelVersion.Source.TRAINING
    assert [label.name for label in version.label_set.labels.order_by("index")] == list(TEXTURES)

    metrics = run.metrics
    assert metrics["validation_examples"] == 2 * 3 and metrics["train_examples"] == 6 * 3
    assert metrics["accuracy"] >= 0.8
    assert np.array(metrics["confusion"]).sum() == 6
    assert len(metrics["per_class"]) == 3 and {"precision", "recall", "f1"} <= set(
        metrics["per_class"][0]
    )
    assert set(metrics["seconds"]) == {
        "embedding",
        "training",
        "calibrating",
        "evaluating",
        "learning_curve",
        "exporting",
    }
    assert run.percent == 100 and run.phase == "done"

    # Photos it never saw (other crops of the same materials) get the right class.
    right = 0
    for index, (name, source) in enumerate(TEXTURES.items()):
        for data in crops(source, 3, seed=100 + index):
            right += inference.classify(data, version, top_k=1)[0].name == name
    assert right >= 8


def test_a_trained_classifier_is_its_owners_only(trained, other_user):
    classifier, run = trained
    from classification.selectors import classifier_choices

    with pytest.raises(ApplicationError) as error:
        classification.model_version_resolve(user=other_user, model=run.model_version_id)
    assert error.value.code == "unknown_model"
    assert classifier.name not in str(classifier_choices(user=other_user))
    assert classifier.name in str(classifier_choices(user=classifier.owner))


def test_examples_are_embedded_once_and_retraining_makes_the_next_version(
    trained, user, django_capture_on_commit_callbacks
):
    classifier, first = trained
    assert not Example.objects.filter(embedding__isnull=True).exists()
    services.classifier_set_threshold(classifier=classifier, threshold=0.4)
    services.examples_add(
        classifier=classifier,
        uploads_by_class={"grava": [Upload("new.jpg", crops("gravel.png", 1, seed=55)[0])]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        second, created = services.training_start(classifier=classifier, user=user)
    second.refresh_from_db()
    classifier.refresh_from_db()
    assert created and second.status == "succeeded" and second.number == 2
    assert second.model_version.version == 2
    assert classifier.active_version == second.model_version
    assert second.model_version.confidence_threshold == 0.4  # the owner's setting carries over
    assert second.metrics["train_examples"] + second.metrics["validation_examples"] == 25

    # Switch back to the first version; an unknown one is refused.
    services.classifier_use_version(classifier=classifier, version_id=first.model_version_id)
    assert classifier.active_version_id == first.model_version_id
    with pytest.raises(ApplicationError):
        services.classifier_use_version(classifier=classifier, version_id=10**9)


def test_none_of_these_below_the_threshold(trained, user):
    classifier, run = trained
    from tests.conftest import photo as sample

    photo = sample("coffee.png")  # none of brick, grass or gravel
    services.classifier_set_distance_threshold(classifier=classifier, threshold=None)
    version = ModelVersion.objects.get(pk=run.model_version_id)
    (plain,) = classification.classify_uploads(
        user=user, uploads=[Upload("c.png", photo)], version=version
    )
    assert not plain.none_of_these
    threshold = plain.top_probability + (1 - plain.top_probability) / 2
    services.classifier_set_threshold(classifier=classifier, threshold=threshold)
    version.refresh_from_db()
    (prediction,) = classification.classify_uploads(
        user=user, uploads=[Upload("c.png", photo)], version=version
    )
    assert prediction.none_of_these and prediction.top_key == plain.top_key
    services.classifier_set_threshold(classifier=classifier, threshold=None)
    version.refresh_from_db()
    (prediction,) = classification.classify_uploads(
        user=user, uploads=[Upload("g.jpg", photo)], version=version
    )
    assert not prediction.none_of_these
    with pytest.raises(ApplicationError):
        services.classifier_set_threshold(classifier=classifier, threshold=1.5)
    # The validation effect is there to choose from.
    rows = run.metrics["thresholds"]
    assert rows[0]["threshold"] == 0.0 and rows[0]["answered"] == 1.0
    assert all(a["answered"] >= b["answered"] for a, b in itertools.pairwise(rows))


def test_exported_files_load_and_agree(trained, tmp_path):
    import keras
    import onnxruntime as ort

    from core.images import Preprocessing, image_to_tensor
    from models_registry.keras_scan import read_config as _read_config
    from models_registry.keras_scan import scan_config

    _classifier, run = trained
    files = export_files(run)
    labels = json.loads(files["labels.json"])
    assert [label["name"] for label in labels["labels"]] == list(TEXTURES)
    assert labels["preprocessing"]["output"] == "probabilities"

    keras_path = tmp_path / "model.keras"
    keras_path.write_bytes(files["model.keras"])
    scan_config(_read_config(keras_path))  # the project's own upload checks accept it
    model = keras.models.load_model(keras_path, compile=False, safe_mode=True)

    spec = Preprocessing.from_spec(labels["preprocessing"], size=labels["input_size"])
    tensor = image_to_tensor(crops("brick.png", 1, seed=9)[0], spec)
    session = ort.InferenceSession(files["model.onnx"], providers=["CPUExecutionProvider"])
    from_onnx = session.run(None, {session.get_inputs()[0].name: tensor})[0]
    from_keras = np.asarray(model(tensor, training=False))
    assert np.allclose(from_onnx, from_keras, atol=1e-4)
    assert abs(from_onnx.sum() - 1) < 1e-4 and from_onnx.argmax() == 0  # ladrillo


def test_web_export_zip_and_files(client, user, trained):
    _classifier, run = trained
    client.force_login(user)
    response = client.get(f"/classifiers/versions/{run.model_version_id}/export/zip/")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(n.split("/")[-1] for n in names) == ["labels.json", "model.keras", "model.onnx"]
    assert (
        client.get(f"/classifiers/versions/{run.model_version_id}/export/exe/").status_code == 404
    )


def test_cancelling_a_queued_run_stops_it_before_it_starts(textures, user):
    run, _ = services.training_start(classifier=textures, user=user)  # not run: no commit
    services.training_cancel(run=run)
    assert run.status == "cancelled"
    assert services.training_run(run_id=run.pk) is None
    run.refresh_from_db()
    assert run.status == "cancelled" and run.model_version is None


def test_cancel_during_training_leaves_no_version(textures, user, monkeypatch):
    run, _ = services.training_start(classifier=textures, user=user)
    real = engine.train_head

    def cancel_midway(*args, on_epoch, **kwargs):
        def hook(epoch, logs):
            if epoch == 10:
                TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
            on_epoch(epoch, logs)

        return real(*args, on_epoch=hook, **kwargs)

    monkeypatch.setattr(engine, "train_head", cancel_midway)
    run = services.training_run(run_id=run.pk)
    assert run.status == "cancelled" and run.model_version is None
    assert run.finished_at is not None and run.lease_expires_at is None
    assert not ModelVersion.objects.filter(source="training").exists()


def test_an_unexpected_error_fails_the_run_with_a_reason(textures, user, monkeypatch):
    run, _ = services.training_start(classifier=textures, user=user)

    def broken(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(engine, "train_head", broken)
    run = services.training_run(run_id=run.pk)
    assert run.status == "failed" and "MemoryError" in run.error
    assert selectors.active_run(classifier=textures) is None


def test_stratified_split_holds_out_every_class():
    labels = np.array([0] * 10 + [1] * 2 + [2] * 5)
    train, validation = engine.stratified_split(labels, seed=1)
    assert sorted(np.concatenate([train, validation])) == list(range(17))
    assert sorted(np.bincount(labels[validation]).tolist()) == [1, 1, 2]
    assert set(labels[train]) == {0, 1, 2}


def test_evaluate_counts_what_it_should():
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.45, 0.55]])
    metrics = engine.evaluate(probabilities, np.array([0, 0, 1, 1]), 2)
    assert metrics["confusion"] == [[1, 1], [0, 2]]
    assert metrics["accuracy"] == 0.75
    assert metrics["per_class"][0] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    at_07 = next(r for r in metrics["thresholds"] if r["threshold"] == 0.7)
    assert at_07 == {"threshold": 0.7, "answered": 0.5, "accuracy": 1.0}
