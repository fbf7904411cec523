"""The README's "when a model changes" commands, run as written against a live
server: the token's scopes, expected_version (412), label-diff, alias history."""

import re
import subprocess

import pytest

from accounts.services import api_token_create
from classification.models import Prediction
from models_registry import services
from tests.accounts.factories import UserFactory
from tests.conftest import photo
from tests.core.test_readme import ROOT
from tests.evaluation.test_readme_evaluation import _candidate


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- api-examples-contract -->\s*```sh\n(.*?)```\s*<!-- /api-examples-contract -->",
        text,
        re.S,
    )
    assert block, "the README lost its api-examples-contract block"
    return block.group(1)


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_contract_examples_work_as_written(
    live_server, user, imagenet_model, pretrained_artifacts, tmp_path
):
    candidate = _candidate(imagenet_model, pretrained_artifacts)
    assert (imagenet_model.pk, candidate.pk) == (1, 2)
    staff = UserFactory(is_staff=True, email="release@example.org")
    services.model_alias_point(alias="default", version=candidate, user=staff)
    _token, key = api_token_create(user=user, name="readme", scopes=["classify"])
    (tmp_path / "photo.jpg").write_bytes(photo("coffee.png"))

    script = re.sub(r"\\\n\s*", "", readme_block())
    lines = [f"{line}\necho '---'" if "curl " in line else line for line in script.splitlines()]
    lines = [f"BASE={live_server.url}", f"TOKEN={key}", *lines]
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    outputs = [o.replace(" ", "") for o in result.stdout.split("---")[:-1]]
    assert len(outputs) == 5
    assert '"scopes":["classify"]' in outputs[0] and '"expires_at":null' in outputs[0]
    assert '"code":"version_changed"' in outputs[1] and '"current_version":2' in outputs[1]
    assert '"same_label_set":true' in outputs[2] and '"unchanged":1000' in outputs[2]
    assert '"history":[{"action":"activate"' in outputs[3]
    assert '"changed_by":null' in outputs[3] and "release@" not in outputs[3]
    assert '"espresso"' in outputs[4].lower() or "n07920052" in outputs[4]
    assert Prediction.objects.count() == 1  # the 412 classified nothing
