"""int8 variants of the real pretrained model: the gate, what is served, the
setting that forces fp32."""

import io

import numpy as np
import pytest
from django.test import override_settings
from django.urls import reverse

from classification import inference
from models_registry import int8
from models_registry.calibration import CALIBRATION_VIEWS, calibration_split
from tests.conftest import photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _int8_variants_on(settings):
    settings.MODEL_INT8_VARIANTS = True


@pytest.fixture(scope="module")
def pretrained_int8(pretrained_artifacts):
    """The pretrained model's int8 build, calibrated on the shipped photos."""
    _keras, onnx, metrics = pretrained_artifacts
    spec = inference.Preprocessing.from_spec({}, size=metrics["input_size"])
    with override_settings(MODEL_INT8_VARIANTS=True):
        return int8.int8_build(onnx=onnx, spec=spec, output="logits")


@pytest.fixture(scope="module")
def broken_int8(pretrained_artifacts):
    """Calibrated on grey images only: every activation range is far too narrow."""
    _keras, onnx, metrics = pretrained_artifacts
    size = metrics["input_size"]
    spec = inference.Preprocessing.from_spec({}, size=size)
    constant = np.zeros((CALIBRATION_VIEWS, size, size, 3), dtype=np.float32)
    with override_settings(MODEL_INT8_VARIANTS=True):
        return int8.int8_build(onnx=onnx, spec=spec, output="logits", calibration=constant)


def _passed(build: int8.Int8Build) -> int8.Int8Build:
    """The same file, recorded as passed (what is served does not depend on
    which photos decided it)."""
    return int8.Int8Build(build.data, {**build.gate, "passed": True})


def test_calibration_and_held_out_views_differ_and_repeat(pretrained_artifacts):
    spec = inference.Preprocessing.from_spec({}, size=224)
    calibration, held_out = calibration_split(spec)
    again, _held = calibration_split(spec)
    assert calibration.shape == (CALIBRATION_VIEWS, 224, 224, 3)
    assert np.array_equal(calibration, again)  # the same photos every time
    flat = {view.tobytes() for view in calibration}
    assert not any(view.tobytes() in flat for view in held_out)


def test_on_the_held_out_calibration_photos_the_gate_is_measured(pretrained_int8):
    gate = pretrained_int8.gate
    assert gate["measured_on"] == "calibration_split"
    assert gate["photos"] == 192 and gate["labelled"] == 0
    assert 0.5 < gate["agreement"] <= 1.0
    assert gate["passed"] is (gate["agreement"] >= int8.MIN_AGREEMENT)
    assert pretrained_int8.data is not None


def _evaluation_set(staff, capture):
    """Whole-photo views (up to a sixth cut off, every other one mirrored) of two
    photographs of ImageNet classes, in folders named by class."""
    from PIL import Image

    from evaluation import services
    from models_registry.models import LabelSet
    from tests.classification.images import encode
    from tests.evaluation.helpers import zip_of

    members = {}
    for name, key in (("coffee.png", "n07920052"), ("rocket.jpg", "n04266014")):
        image = Image.open(io.BytesIO(photo(name))).convert("RGB")
        for number in range(12):
            width, height = image.size
            cut = number * 0.015  # up to a sixth of each side off
            view = image.crop((int(width * cut), int(height * cut), width, height))
            if number % 2:
                view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            members[f"{key}/{number}.jpg"] = encode(view, "JPEG")
    with capture(execute=True):
        evaluation_set = services.evaluation_set_start(
            name="int8 check",
            label_set=LabelSet.objects.get(name="ImageNet-1k"),
            archive=zip_of(members),
            user=staff,
        )
    evaluation_set.refresh_from_db()
    assert evaluation_set.is_ready
    return evaluation_set


def test_an_evaluation_set_of_the_label_set_decides_the_gate(
    imagenet_model, django_capture_on_commit_callbacks
):
    """Its photos replace the held-out views; the gate follows the numbers.
    (On these 24 photos the pretrained int8 file agrees with fp32 on 23: it is
    not served; see README, Speed.)"""
    from tests.accounts.factories import UserFactory

    evaluation_set = _evaluation_set(UserFactory(is_staff=True), django_capture_on_commit_callbacks)
    version = int8.model_version_int8_build(version=imagenet_model)
    gate = version.int8_gate
    assert gate["measured_on"] == "evaluation_set"
    assert gate["measured_on_name"] == str(evaluation_set)
    assert gate["photos"] == gate["labelled"] == 24
    # coffee.png is an espresso to both; rocket.jpg, a space shuttle to neither
    assert gate["accuracy_fp32"] == gate["accuracy_int8"] == 0.5
    drop = gate["accuracy_fp32"] - gate["accuracy_int8"]
    passed = gate["agreement"] >= int8.MIN_AGREEMENT and drop <= int8.MAX_ACCURACY_DROP
    assert gate["passed"] is passed
    version.refresh_from_db()
    assert bool(version.int8_sha256) is passed
    assert inference.precision(version) == ("int8" if passed else "fp32")
    assert "evaluation set" in int8.int8_gate_summary(gate)


def test_a_passed_variant_is_served(imagenet_model, pretrained_int8):
    version = int8.model_version_int8_store(version=imagenet_model, build=_passed(pretrained_int8))
    version.refresh_from_db()
    assert version.int8_sha256 and version.int8_file.name.endswith(".int8.onnx")
    assert int8.served_file(version).precision == "int8"
    top = inference.classify(photo("coffee.png"), version, top_k=1)[0]
    assert top.key == "n07920052"  # espresso, from the int8 file
    assert version.int8_sha256 in inference.sessions._items
    assert "Passed" in int8.int8_gate_summary(version.int8_gate)

    # Built again and failed: the old file goes, fp32 answers.
    old = version.int8_file.name
    failed = int8.Int8Build(pretrained_int8.data, {**pretrained_int8.gate, "passed": False})
    version = int8.model_version_int8_store(version=version, build=failed)
    assert not version.int8_file.storage.exists(old)
    assert inference.precision(version) == "fp32"


def test_a_broken_quantization_fails_and_fp32_is_served(imagenet_model, broken_int8):
    gate = broken_int8.gate
    assert gate["passed"] is False and gate["reason"] == "agreement", gate
    assert gate["agreement"] < int8.MIN_AGREEMENT

    version = int8.model_version_int8_store(version=imagenet_model, build=broken_int8)
    version.refresh_from_db()
    assert version.int8_sha256 == "" and not version.int8_file
    assert version.int8_gate["passed"] is False
    assert int8.served_file(version).precision == "fp32"
    assert inference.precision(version) == "fp32"
    assert "99" in int8.int8_gate_summary(version.int8_gate)


def test_an_accuracy_loss_fails_the_gate_on_labelled_photos():
    metrics = {"photos": 100, "agreement": 1.0}
    same = {**metrics, "labelled": 100, "accuracy_fp32": 0.90, "accuracy_int8": 0.895}
    worse = {**same, "accuracy_int8": 0.885}
    assert int8._decide(same)["passed"] is True
    assert int8._decide(worse) == {"passed": False, "reason": "accuracy"}


def test_the_setting_forces_fp32(imagenet_model, pretrained_int8, settings):
    version = int8.model_version_int8_store(version=imagenet_model, build=_passed(pretrained_int8))
    assert inference.precision(version) == "int8"
    settings.INFERENCE_PRECISION = "fp32"
    assert inference.precision(version) == "fp32"
    inference.classify(photo("coffee.png"), version, top_k=1)
    assert version.onnx_sha256 in inference.sessions._items


def test_a_grouping_runs_its_base_networks_int8(imagenet_model, pretrained_int8):
    from models_registry.bootstrap import groupings_ensure

    int8.model_version_int8_store(version=imagenet_model, build=_passed(pretrained_int8))
    grouping = groupings_ensure(base_version=imagenet_model)[0]
    assert inference.precision(grouping) == "int8"


# Every answer says which precision served it
# ------------------------------------------------------------------------------
def test_the_api_page_and_batch_answers_say_which_precision_answered(
    imagenet_model, pretrained_int8, user, api_client, client, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from classification.models import Prediction

    def upload():
        return SimpleUploadedFile("coffee.png", photo("coffee.png"))

    api_client.force_authenticate(user)
    answer = api_client.post("/api/v1/classifications/", {"file": upload()}, format="multipart")
    assert answer.status_code == 201
    assert answer.json()["results"][0]["precision"] == "fp32"  # nothing built yet

    int8.model_version_int8_store(version=imagenet_model, build=_passed(pretrained_int8))
    answer = api_client.post("/api/v1/classifications/", {"file": upload()}, format="multipart")
    (result,) = answer.json()["results"]
    assert result["precision"] == "int8"
    assert Prediction.objects.get(pk=result["id"]).precision == "int8"
    assert api_client.get(result["url"]).json()["precision"] == "int8"

    with django_capture_on_commit_callbacks(execute=True):
        batch = api_client.post("/api/v1/batches/", {"file": [upload()]}, format="multipart")
    assert batch.status_code == 202
    items = api_client.get(batch.json()["results_url"]).json()["results"]
    assert [item["precision"] for item in items] == ["int8"]

    client.force_login(user)
    page = client.post("/classify/", {"file": upload(), "model": "default"})
    assert page.status_code == 200
    assert "(int8)" in page.content.decode()


def test_the_version_in_the_api_and_admin_shows_its_gate(imagenet_model, broken_int8, client):
    from rest_framework.test import APIClient

    int8.model_version_int8_store(version=imagenet_model, build=broken_int8)
    api = APIClient()
    staff = _staff()
    api.force_authenticate(staff)
    data = api.get(f"/api/v1/models/{imagenet_model.pk}/").json()["int8"]
    assert data["built"] is True and data["passed"] is False and data["served"] == "fp32"
    assert data["reason"] == "agreement" and data["agreement"] < int8.MIN_AGREEMENT
    assert data["measured_on"] == "calibration_split" and data["photos"] == 192

    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    page = client.get(
        reverse("admin:models_registry_modelversion_change", args=[imagenet_model.pk])
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        "Int8 variant" in text
        and "Not passed (agreement under 99 %)" in text
        and "Served now: fp32." in text
    )


def _staff():
    from tests.accounts.factories import UserFactory

    return UserFactory(is_staff=True)
