"""Validation and conversion of uploaded models, hostile files included, each
in the real sandbox child. Every failure leaves the version ``failed`` with a
reason, and nothing else changes. The scan's many variants are in test_keras_scan."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from models_registry import services
from models_registry.models import ModelAlias, ModelVersion
from models_registry.validation_jobs import model_version_validate
from tests.models_registry.factories import LabelSetFactory
from tests.models_registry.keras_files import rewrite, tiny_model

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def tiny(model_dir):
    return tiny_model(model_dir / "tiny.keras")


def _validate(path, classes=("cat", "dog", "bird")) -> ModelVersion:
    version = services.model_version_upload(
        name="candidate",
        file=ContentFile(path.read_bytes(), name="m.keras"),
        label_set=LabelSetFactory(classes=classes),
        enqueue=False,
    )
    return model_version_validate(version_id=version.pk)


def _assert_failed(version: ModelVersion, fragment: str) -> None:
    assert version.status == ModelVersion.Status.FAILED, version.error
    assert fragment in version.error
    assert not version.onnx_file
    assert not ModelAlias.objects.exists()


def test_a_good_model_becomes_ready_with_an_onnx_twin(tiny):
    version = _validate(tiny)
    assert version.status == ModelVersion.Status.READY, version.error
    assert version.input_size == 32
    assert version.metrics["onnx_max_abs_diff"] < 1e-4
    assert version.metrics["parameters"] > 0
    assert len(version.onnx_sha256) == 64
    assert version.validated_at is not None
    assert version.validations.get().attempts == 1
    assert version.metrics["validation_peak_mb"] > 0  # measured in the sandbox
    # Delivering the task twice changes nothing.
    again = model_version_validate(version_id=version.pk)
    assert again.status == ModelVersion.Status.READY
    assert again.validations.get().attempts == 1


def test_output_count_must_match_the_labels(tiny):
    _assert_failed(_validate(tiny, classes=("a", "b")), "has 3 outputs but the label set has 2")


def test_grey_or_non_square_input_is_refused(model_dir):
    import keras
    from keras import layers

    inputs = keras.Input((32, 48, 3))
    outputs = layers.Dense(3)(layers.GlobalAveragePooling2D()(inputs))
    path = model_dir / "wide.keras"
    keras.Model(inputs, outputs).save(path)
    _assert_failed(_validate(path), "square RGB")


def test_lambda_layer_is_refused_before_loading(model_dir):
    from keras import layers

    path = tiny_model(model_dir / "lambda.keras", extra_layer=layers.Lambda(lambda x: x * 2))
    _assert_failed(_validate(path), "serialised Python code (“Lambda”")


def _swap(model_config, old, **changes):
    for layer in model_config["config"]["layers"]:
        if layer["class_name"] == old:
            layer.update(changes)
            break
    return model_config


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        # The three bypasses from the hardening issue: "keras" + "layers.X".
        (
            {
                "module": "keras",
                "class_name": "layers.ActivityRegularization",
                "config": {"name": "dropout", "l1": 0.0, "l2": 0.0},
            },
            "keras.layers.ActivityRegularization",
        ),
        (
            {
                "module": "keras",
                "class_name": "layers.TFSMLayer",
                "config": {"name": "dropout", "filepath": "/srv/saved", "call_endpoint": "serve"},
            },
            "keras.layers.TFSMLayer",
        ),
        (
            {
                "module": "keras",
                "class_name": "layers.IntegerLookup",
                "config": {"name": "dropout", "vocabulary": "/etc/passwd"},
            },
            "keras.layers.IntegerLookup",
        ),
    ],
    ids=["activity-regularization", "tfsmlayer", "integer-lookup-vocabulary-file"],
)
def test_issue_bypasses_are_refused_by_the_scan(model_dir, changes, fragment):
    from keras import layers

    source = tiny_model(model_dir / "dropout.keras", extra_layer=layers.Dropout(0.1))
    path = rewrite(
        source, model_dir / "bypass.keras", config=lambda c: _swap(c, "Dropout", **changes)
    )
    version = _validate(path)
    _assert_failed(version, fragment)
    assert "not an allowed built-in Keras object" in version.error
    assert version.progress == {"step": "failed"}


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [
        ("MODEL_VALIDATION_MEMORY_MB", 150, "used more than 150 MB of memory"),
        ("MODEL_VALIDATION_CPU_SECONDS", 1, "used more than 1 second of processor time"),
        ("MODEL_VALIDATION_TIMEOUT_SECONDS", 1, "took longer than 1 second"),
    ],
)
def test_a_validation_over_its_limits_fails_with_a_clear_message(
    tiny, settings, limit, value, message
):
    setattr(settings, limit, value)
    _assert_failed(_validate(tiny), message)


def test_garbage_weights_fail_to_load(tiny, model_dir):
    path = model_dir / "garbage.keras"
    import zipfile

    with zipfile.ZipFile(tiny) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "model.weights.h5":
                data = b"\x00garbage" * 64
            dst.writestr(item, data)
    _assert_failed(_validate(path), "Keras could not load the model")


def test_nan_weights_fail_the_smoke_prediction(model_dir):
    import keras

    path = tiny_model(model_dir / "nan.keras")
    model = keras.models.load_model(path)
    dense = model.layers[-1]
    kernel, bias = dense.get_weights()
    dense.set_weights([np.full_like(kernel, np.nan), bias])
    model.save(path)
    _assert_failed(_validate(path), "NaN")


def test_tampered_stored_file_fails(tiny):
    version = services.model_version_upload(
        name="candidate",
        file=ContentFile(tiny.read_bytes(), name="m.keras"),
        label_set=LabelSetFactory(),
        enqueue=False,
    )
    version.sha256 = "0" * 64
    version.save()
    _assert_failed(model_version_validate(version_id=version.pk), "checksum")


def test_config_scan_reports_json_problems(tiny, model_dir):
    import zipfile

    path = model_dir / "badjson.keras"
    with zipfile.ZipFile(tiny) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, b"{oops" if item.filename == "config.json" else src.read(item))
    _assert_failed(_validate(path), "not valid JSON")
