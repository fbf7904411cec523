"""A trained classifier's int8 variant answers the distance to the examples too."""

import numpy as np
import onnxruntime as ort
import pytest

from core.images import Preprocessing, image_to_tensor
from tests.conftest import photo
from tests.training.examples import TEXTURES, crops
from training import services

pytestmark = pytest.mark.django_db


def test_the_int8_variant_keeps_the_distance_output(
    textures, user, settings, django_capture_on_commit_callbacks
):
    settings.MODEL_INT8_VARIANTS = True
    with django_capture_on_commit_callbacks(execute=True):
        run, _created = services.training_start(classifier=textures, user=user)
    run.refresh_from_db()
    version = run.model_version
    assert run.status == "succeeded" and version.int8_sha256, version.int8_gate
    spec = Preprocessing.from_spec(version.preprocessing, size=version.input_size)
    images = [crops(src, 1, seed=300 + i)[0] for i, src in enumerate(TEXTURES.values())]
    batch = np.concatenate([image_to_tensor(d, spec) for d in [*images, photo("coffee.png")]])
    answers = {}
    for name, field in (("fp32", version.onnx_file), ("int8", version.int8_file)):
        with field.open("rb") as handle:
            session = ort.InferenceSession(handle.read(), providers=["CPUExecutionProvider"])
        assert [o.name for o in session.get_outputs()] == [
            session.get_outputs()[0].name,
            "distance",
        ]
        answers[name] = session.run(None, {session.get_inputs()[0].name: batch})[1]
    # The same photos are near and far in both precisions.
    far = version.distance_threshold
    assert ((answers["fp32"] > far) == (answers["int8"] > far)).all()
    assert np.abs(answers["fp32"] - answers["int8"]).max() < 0.05
