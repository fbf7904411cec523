"""Validation and conversion of uploaded models, hostile files included.
Every failure leaves the version ``failed`` with a reason, and nothing else changes."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from models_registry import services
from models_registry.models import ModelAlias, ModelVersion
from models_registry.validation import model_version_validate
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
    assert version.attempts == 1
    # Delivering the task twice changes nothing.
    again = model_version_validate(version_id=version.pk)
    assert again.attempts == 1 and again.status == ModelVersion.Status.READY


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
    _assert_failed(_validate(path), "Lambda")


def _replace_layer_class(config, old, new, **extra):
    for layer in config["config"]["layers"]:
        if layer["class_name"] == old:
            layer.update(class_name=new, **extra)
            break
    return config


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda c: _replace_layer_class(c, "Conv2D", "TFSMLayer"), "TFSMLayer"),
        (
            lambda c: _replace_layer_class(
                c, "Conv2D", "Evil", module="evil_package", registered_name="evil>Evil"
            ),
            "only built-in Keras objects",
        ),
        (
            lambda c: _replace_layer_class(c, "Conv2D", "Conv2D", registered_name="MyPkg>Conv2D"),
            "custom object",
        ),
        (lambda c: _replace_layer_class(c, "Conv2D", "StringLookup"), "is not allowed"),
        (
            lambda c: {**c, "config": {**c["config"], "x": {"class_name": "__lambda__"}}},
            "arbitrary code",
        ),
        (lambda c: {"module": "keras.layers", "class_name": "Dense", "config": {}}, "not hold"),
    ],
    ids=[
        "tfsmlayer",
        "foreign-module",
        "custom-registered",
        "not-allowlisted",
        "lambda-fn",
        "no-model",
    ],
)
def test_hostile_configs_are_refused(tiny, model_dir, change, fragment):
    path = rewrite(tiny, model_dir / "hostile.keras", config=change)
    _assert_failed(_validate(path), fragment)


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
