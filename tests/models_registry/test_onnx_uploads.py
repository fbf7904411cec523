"""ONNX uploads (models trained in PyTorch and elsewhere) pass the same gates as
.keras ones, in the real sandbox child, and the engine feeds them photos the
way they declared: layout, size, per-channel mean and standard deviation."""

import numpy as np
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from classification import inference
from core.exceptions import ApplicationError
from models_registry import services
from models_registry.models import ModelVersion
from models_registry.validation_jobs import model_version_validate
from tests.classification.images import encode
from tests.models_registry import onnx_files
from tests.models_registry.factories import LabelSetFactory

pytestmark = pytest.mark.django_db
COLOURS = ("red", "green", "blue")


def _upload(data: bytes, *, classes=COLOURS, **declared) -> ModelVersion:
    version = services.model_version_upload(
        name="from-pytorch",
        file=ContentFile(data, name="model.onnx"),
        label_set=LabelSetFactory(classes=classes),
        preprocessing=declared,
        enqueue=False,
    )
    return model_version_validate(version_id=version.pk)


def _answer(version: ModelVersion, colour: tuple[int, int, int]) -> str:
    data = encode(Image.new("RGB", (80, 60), colour), "PNG")
    return inference.classify(data, version, top_k=1)[0].key


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_an_onnx_model_is_validated_and_fed_as_it_declared(layout):
    # Means and deviations that make each pure colour's own channel the largest.
    version = _upload(
        onnx_files.colour_means(layout=layout), layout=layout, mean="100,100,100", std="50,50,50"
    )
    assert version.status == ModelVersion.Status.READY, version.error
    assert (version.format, version.input_size) == ("onnx", 32)
    assert version.preprocessing["layout"] == layout
    assert version.preprocessing["output"] == "logits"
    assert version.onnx_file.read() == version.file.open("rb").read()
    assert [_answer(version, c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))] == list(COLOURS)


def test_a_softmax_at_the_end_means_probabilities_and_a_free_size_must_be_declared():
    version = _upload(onnx_files.colour_means(softmax=True))
    assert version.preprocessing["output"] == "probabilities", version.error
    free = _upload(onnx_files.colour_means(size=None))
    assert free.status == "failed" and "declare the size" in free.error
    declared = _upload(onnx_files.colour_means(size=None), size=48)
    assert (declared.status, declared.input_size) == ("ready", 48)


def test_a_real_convolutional_network_classifies_photos():
    version = _upload(onnx_files.conv_net(classes=3))
    assert version.status == "ready", version.error
    probabilities = inference.run(version, np.zeros((2, 3, 32, 32), dtype=np.float32))
    assert probabilities.shape == (2, 3) and np.allclose(probabilities.sum(axis=1), 1)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (onnx_files.with_custom_operator(), "custom operator domain"),
        (onnx_files.with_external_weights(), "other files"),
        (onnx_files.colour_means(opset=7), "opset is 7"),
        (onnx_files.conv_net(classes=5), "5 outputs but the label set has 3"),
        (onnx_files.conv_net(weights=float("nan")), "NaN"),
        (b"\x08\x07" + bytes(100), "not an ONNX model"),
        (onnx_files.colour_means(layout="nhwc"), "not 3"),  # declared NCHW by default
    ],
)
def test_hostile_or_unusable_onnx_files_fail_with_a_reason(data, fragment):
    version = _upload(data)
    assert version.status == ModelVersion.Status.FAILED
    assert fragment in version.error, version.error
    assert not version.onnx_file


def test_declared_preprocessing_is_checked_before_anything_is_stored():
    for declared, fragment in (
        ({"layout": "chwn"}, "NCHW or NHWC"),
        ({"mean": "1,2"}, "three numbers"),
        ({"std": "0,1,1"}, "above 0"),
        ({"size": "10"}, "from 32 to 2048"),
    ):
        with pytest.raises(ApplicationError) as error:
            _upload(onnx_files.colour_means(), **declared)
        assert fragment in error.value.message
    with pytest.raises(ApplicationError) as error:
        services.model_version_upload(
            name="x", file=ContentFile(b"x", name="model.pt"), label_set=LabelSetFactory()
        )
    assert error.value.code == "not_a_model"
    assert not ModelVersion.objects.exists()


def test_the_api_takes_an_onnx_file_with_its_preprocessing(api_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.accounts.factories import UserFactory

    api_client.force_authenticate(UserFactory(is_staff=True))
    label_set = LabelSetFactory(classes=COLOURS)
    response = api_client.post(
        "/api/v1/models/",
        {
            "name": "colours",
            "label_set": label_set.pk,
            "file": SimpleUploadedFile("m.onnx", onnx_files.colour_means(layout="nhwc")),
            "layout": "nhwc",
            "mean": "100,100,100",
            "std": "50,50,50",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    version = ModelVersion.objects.get()
    assert (version.format, version.preprocessing["layout"]) == ("onnx", "nhwc")
    assert version.preprocessing["mean"] == [100.0, 100.0, 100.0]
