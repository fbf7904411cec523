"""A trained classifier gets an int8 variant too, gated on its own
validation photos (and calibrated on its training photos as well)."""

import pytest

from classification import inference
from models_registry import int8

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _int8_variants_on(settings):
    settings.MODEL_INT8_VARIANTS = True


def test_a_training_run_builds_and_gates_an_int8_variant(trained):
    _classifier, run = trained
    version = run.model_version
    version.refresh_from_db()
    gate = version.int8_gate
    validation = run.metrics["validation"]
    assert gate["measured_on"] == "validation_photos"
    assert gate["photos"] == gate["labelled"] == len(validation) > 0
    # fp32's accuracy on those photos is the run's own
    right = sum(row["true"] == row["predicted"] for row in validation) / len(validation)
    assert gate["accuracy_fp32"] == pytest.approx(right)
    drop = gate["accuracy_fp32"] - gate["accuracy_int8"]
    passed = gate["agreement"] >= int8.MIN_AGREEMENT and drop <= int8.MAX_ACCURACY_DROP
    assert gate["passed"] is passed
    assert bool(version.int8_sha256) is passed
    assert inference.precision(version) == ("int8" if passed else "fp32")
