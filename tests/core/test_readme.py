"""The README's API examples, run as written against a live server."""

import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from accounts.services import api_token_create
from tests.conftest import photo

ROOT = Path(__file__).resolve().parent.parent.parent


def readme_api_examples() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- api-examples -->\s*```sh\n(.*?)```\s*<!-- /api-examples -->", text, re.S
    )
    assert block, "the README lost its api-examples block"
    return block.group(1)


def readme_block(name: str, language: str = "sh") -> str:
    """The code of a README block marked ``<!-- name -->`` ... ``<!-- /name -->``."""
    text = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- {name} -->\s*```{language}\n(.*?)```\s*<!-- /{name} -->", text, re.S)
    assert block, f"the README lost its {name} block"
    return block.group(1)


def readme_commands_run(script: str, *, cwd, base: str, token: str, timeout=120) -> list[str]:
    """Runs a README block's commands as written (continued lines joined) with
    BASE and TOKEN set; the output of each curl, in order."""
    script = re.sub(r"\\\n\s*", "", script)
    lines = [f"{line}\necho '---'" if "curl " in line else line for line in script.splitlines()]
    lines = [f"BASE={base}", f"TOKEN={token}", *lines]
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    return result.stdout.split("---")[:-1]


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_curl_examples_work_as_written(live_server, user, imagenet_model, tmp_path):
    _token, key = api_token_create(user=user, name="readme")
    (tmp_path / "photo.jpg").write_bytes(photo("coffee.png"))
    (tmp_path / "photo2.jpg").write_bytes(photo("camera.png"))
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.writestr("a.png", photo("chelsea.png"))
        archive.writestr("b.png", photo("rocket.jpg"))
    script = readme_api_examples()
    script = re.sub(r"^BASE=.*$", f"BASE={live_server.url}", script, flags=re.M)
    script = re.sub(r"^TOKEN=.*$", f"TOKEN={key}", script, flags=re.M)
    # One logical command per line, then a separator after each curl.
    commands = re.sub(r"\\\n\s*|\|\n\s*", lambda m: "| " if m.group(0)[0] == "|" else "", script)
    lines = [f"{line}\necho '---'" if "curl " in line else line for line in commands.splitlines()]
    assert sum("curl " in line for line in lines) == 11
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    outputs = result.stdout.split("---")[:-1]
    assert len(outputs) == 11
    assert outputs[10].strip() == ""  # DELETE: 204, no body
    assert '"email"' in outputs[0]
    assert "espresso" in outputs[1]
    assert "café exprés" in outputs[2] and "trípode" in outputs[2]
    assert "n07920052" in outputs[3]
    assert '"count":4' in outputs[4].replace(" ", "")  # 1 + 2 + 1 classified above
    assert '"count":3' in outputs[5].replace(" ", "")  # photo.jpg's three espressos
    assert '"status":"' in outputs[6].replace(" ", "")
    assert '"succeeded"' in outputs[7]
    assert '"original_name":"a.png"' in outputs[8].replace(" ", "")
    assert outputs[9].strip() == ""  # -o sorted.zip
    with zipfile.ZipFile(tmp_path / "sorted.zip") as archive:
        names = archive.namelist()
    assert "results.csv" in names
    photos = sorted(name.split("/")[-1] for name in names if "/" in name)
    assert photos == ["a.png.jpg", "b.png.jpg"]  # each in its class's folder
