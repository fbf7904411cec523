"""The README's custom-classifier commands, run as written against a live server."""

import re
import subprocess
import zipfile

import pytest

from accounts.services import api_token_create
from tests.core.test_readme import ROOT
from tests.training.examples import crops
from training.models import TrainingRun


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- api-examples-training -->\s*```sh\n(.*?)```\s*<!-- /api-examples-training -->",
        text,
        re.S,
    )
    assert block, "the README lost its api-examples-training block"
    return block.group(1)


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_training_examples_work_as_written(live_server, user, imagenet_model, tmp_path):
    _token, key = api_token_create(user=user, name="readme")
    sources = {"brick": "brick.png", "grass": "grass.png", "gravel": "gravel.png"}
    with zipfile.ZipFile(tmp_path / "examples.zip", "w") as archive:
        for index, (name, source) in enumerate(sources.items()):
            for number, data in enumerate(crops(source, 5, seed=index)):
                archive.writestr(f"{name}/{number}.jpg", data)
    (tmp_path / "brick.jpg").write_bytes(crops("brick.png", 1, seed=40)[0])
    (tmp_path / "photo.jpg").write_bytes(crops("brick.png", 1, seed=41)[0])

    script = re.sub(r"\\\n\s*", "", readme_block())
    script = re.sub(r"^MODEL=.*$", "MODEL=2", script, flags=re.M)  # the trained version here
    lines = [f"{line}\necho '---'" if "curl " in line else line for line in script.splitlines()]
    lines = [f"BASE={live_server.url}", f"TOKEN={key}", *lines]
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    outputs = [o.replace(" ", "") for o in result.stdout.split("---")[:-1]]
    assert len(outputs) == 10
    assert '"name":"Soils"' in outputs[0]
    assert '"total":15' in outputs[1] and '/api/v1/classifiers/1/imports/1/"' in outputs[1]
    assert '"status":"succeeded"' in outputs[2] and '"added":15' in outputs[2]
    assert '"added":{"brick":1}' in outputs[3]
    assert '"status":"succeeded"' in outputs[5]
    assert '"model":2' in outputs[6] and TrainingRun.objects.get().model_version_id == 2
    assert '"name":"brick"' in outputs[7]
    assert '"confidence_threshold":0.6' in outputs[8]
    assert '"distance_threshold":0.3' in outputs[8]
    assert '"none_of_these_reason":' in outputs[7]
    assert zipfile.ZipFile(tmp_path / "soils.zip").namelist()
