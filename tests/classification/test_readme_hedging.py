"""The README's hedged-answer commands, run as written against a live server."""

import json

import pytest

from accounts.services import api_token_create
from tests.conftest import photo
from tests.core.test_readme import readme_block, readme_commands_run

DOMESTIC_CAT = "n02121808"


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_hedging_examples_work_as_written(live_server, user, imagenet_model, tmp_path):
    _token, key = api_token_create(user=user, name="readme")
    (tmp_path / "cat.jpg").write_bytes(photo("chelsea.png"))
    runs = readme_commands_run(
        readme_block("api-examples-hedging"), cwd=tmp_path, base=live_server.url, token=key
    )
    outputs = [json.loads(o)["results"][0] for o in runs]
    assert len(outputs) == 3
    plain, strict, off = outputs
    assert plain["classes"][0]["probability"] < 0.5
    assert plain["hedged"]["key"] == DOMESTIC_CAT and plain["hedged"]["name"] == "domestic cat"
    assert plain["hedged"]["contributors"][0]["name"] == plain["classes"][0]["name"]
    assert strict["hedged"]["confidence"] >= 0.95 and strict["hedged"]["threshold"] == 0.95
    assert strict["hedged"]["classes"] > plain["hedged"]["classes"]
    assert strict["classes"] == []  # min_confidence also leaves out the classes below it
    assert off["hedged"] is None and off["classes"] == plain["classes"]
    print(strict["hedged"]["name"], strict["hedged"]["confidence"])
