"""The README's model-change commands (evaluation set, evaluations, comparison,
feedback, replay, approval), run as written against a live server."""

import hashlib
import re
import zipfile

import pytest
from django.core.files.base import ContentFile

from accounts.services import api_token_create
from classification import services as classification
from models_registry.models import AliasChange, ModelAlias, ModelVersion
from tests.accounts.factories import UserFactory
from tests.conftest import photo
from tests.core.test_readme import readme_block, readme_commands_run
from tests.training.examples import crops


def _candidate(current: ModelVersion, pretrained_artifacts) -> ModelVersion:
    """Version 2: the same network registered again, as a retrained one would be."""
    keras_bytes, onnx_bytes, _metrics = pretrained_artifacts
    version = ModelVersion(
        name="EfficientNet-Lite0 retrained",
        label_set=current.label_set,
        status=ModelVersion.Status.READY,
        sha256=hashlib.sha256(keras_bytes).hexdigest(),
        onnx_sha256=hashlib.sha256(onnx_bytes).hexdigest(),
        input_size=current.input_size,
        preprocessing=current.preprocessing,
    )
    version.file.save("model.keras", ContentFile(keras_bytes), save=False)
    version.onnx_file.save("model.onnx", ContentFile(onnx_bytes), save=False)
    version.save()
    return version


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_evaluation_examples_work_as_written(
    live_server, user, imagenet_model, pretrained_artifacts, tmp_path
):
    candidate = _candidate(imagenet_model, pretrained_artifacts)
    assert candidate.pk == 2
    _token, key = api_token_create(user=user, name="readme")
    _token, staff_key = api_token_create(user=UserFactory(is_staff=True), name="readme")
    # Classification 1: the user's photo of Chelsea, asked through "default" and kept.
    classification.classify_uploads_each(
        user=user,
        uploads=[classification.Upload("chelsea.png", photo("chelsea.png"))],
        version=imagenet_model,
        alias="default",
    )
    with zipfile.ZipFile(tmp_path / "labelled.zip", "w") as archive:
        for folder, source in (("espresso", "coffee.png"), ("tabby cat", "chelsea.png")):
            for number, data in enumerate(crops(source, 4, seed=len(folder))):
                archive.writestr(f"{folder}/{number}.jpg", data)

    script = readme_block("api-examples-evaluation")
    script = re.sub(r"(?m)^STAFF_TOKEN=.*$", f"STAFF_TOKEN={staff_key}", script)
    runs = readme_commands_run(script, cwd=tmp_path, base=live_server.url, token=key, timeout=300)
    outputs = [o.replace(" ", "") for o in runs]
    assert len(outputs) == 13
    assert '"status":"succeeded"' in outputs[1] and '"added":8' in outputs[1]
    assert '"status":"succeeded"' in outputs[4] and '"top5_accuracy":' in outputs[4]
    assert '"confusion":' in outputs[4] and '"suggested_thresholds":' in outputs[4]
    assert '"numbers":' in outputs[5] and '"changed":[]' in outputs[5]  # the same network
    assert '"correct_key":"n02123045"' in outputs[6] and '"status":"inbox"' in outputs[6]
    assert '"replayed":1' in outputs[8] and '"changed":0' in outputs[8]
    assert '"decision":"approved"' in outputs[9]
    assert ModelAlias.objects.get(name="default").version_id == 2
    assert AliasChange.objects.latest("id").based_on["replay"] == 1
    assert '"based_on":{' in outputs[10] and '"replay":1' in outputs[10]
    assert '"correct_key":"n02123045"' in outputs[11]
    assert '"predicted_key":"n02124075"' in outputs[12] and '"count":1' in outputs[12]
