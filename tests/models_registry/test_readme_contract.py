"""The README's "when a model changes" commands, run as written against a live
server: the token's scopes, expected_version (412), label-diff, alias history."""

import pytest

from accounts.services import api_token_create
from classification.models import Prediction
from models_registry import services
from tests.accounts.factories import UserFactory
from tests.conftest import photo
from tests.core.test_readme import readme_block, readme_commands_run
from tests.evaluation.test_readme_evaluation import _candidate


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

    runs = readme_commands_run(
        readme_block("api-examples-contract"), cwd=tmp_path, base=live_server.url, token=key
    )
    outputs = [o.replace(" ", "") for o in runs]
    assert len(outputs) == 5
    assert '"scopes":["classify"]' in outputs[0] and '"expires_at":null' in outputs[0]
    assert '"code":"version_changed"' in outputs[1] and '"current_version":2' in outputs[1]
    assert '"same_label_set":true' in outputs[2] and '"unchanged":1000' in outputs[2]
    assert '"history":[{"action":"activate"' in outputs[3]
    assert '"changed_by":null' in outputs[3] and "release@" not in outputs[3]
    assert '"espresso"' in outputs[4].lower() or "n07920052" in outputs[4]
    assert Prediction.objects.count() == 1  # the 412 classified nothing
