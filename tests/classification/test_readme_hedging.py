"""The README's hedged-answer commands, run as written against a live server."""

import json
import re
import subprocess

import pytest

from accounts.services import api_token_create
from tests.conftest import photo
from tests.core.test_readme import ROOT

DOMESTIC_CAT = "n02121808"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- api-examples-hedging -->\s*```sh\n(.*?)```\s*<!-- /api-examples-hedging -->",
        text,
        re.S,
    )
    assert block, "the README lost its api-examples-hedging block"
    return block.group(1)


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_hedging_examples_work_as_written(live_server, user, imagenet_model, tmp_path):
    _token, key = api_token_create(user=user, name="readme")
    (tmp_path / "cat.jpg").write_bytes(photo("chelsea.png"))
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
    outputs = [json.loads(o)["results"][0] for o in result.stdout.split("---")[:-1]]
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
