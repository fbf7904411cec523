"""The README's Python client and command-line examples, run as written
against a live server with a worker process."""

import csv
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import photo
from tests.core.test_readme import ROOT
from tests.training.examples import crops

SOILS = {"brick": "brick.png", "grass": "grass.png", "gravel": "gravel.png"}


def readme_block(name: str, language: str) -> str:
    text = (ROOT / "README.md").read_text()
    pattern = rf"<!-- {name} -->\s*```{language}\n(.*?)```\s*<!-- /{name} -->"
    block = re.search(pattern, text, re.S)
    assert block, f"the README lost its {name} block"
    return block.group(1)


def _files(folder: Path) -> None:
    (folder / "photo.jpg").write_bytes(photo("coffee.png"))
    (folder / "photo2.jpg").write_bytes(photo("camera.png"))
    (folder / "photos").mkdir()
    (folder / "photos" / "a.jpg").write_bytes(photo("coffee.png"))
    (folder / "photos" / "b.jpg").write_bytes(photo("chelsea.png"))
    for index, (name, source) in enumerate(SOILS.items()):
        (folder / "examples" / name).mkdir(parents=True)
        for number, data in enumerate(crops(source, 5, seed=index)):
            (folder / "examples" / name / f"{number}.jpg").write_bytes(data)


def test_the_readme_says_how_to_install_the_client():
    text = (ROOT / "README.md").read_text()
    assert "pip install ./client" in text
    project = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    assert project["name"] == "picsort-client"
    assert project["scripts"]["picsort"] == "picsort.cli:main"


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_client_examples_work_as_written(
    live_server, user, token, imagenet_model, worker, tmp_path
):
    _files(tmp_path)
    script = readme_block("python-client", "python")
    script = script.replace('"http://127.0.0.1:8000"', repr(live_server.url))
    script = script.replace('"pst_..."', repr(token))
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert len(lines) == 7, run.stdout
    assert lines[0].startswith("photo.jpg n07920052 espresso 0.")
    assert lines[1].startswith("photo2.jpg n")
    assert lines[2] == "photos/a.jpg espresso" and lines[3].startswith("photos/b.jpg ")
    assert lines[4] in SOILS
    assert lines[5] == f"2 {user.email} 1"  # photo.jpg and photos/a.jpg are espressos
    assert lines[6].startswith("400 unknown_model ")
    assert "batch 1 [" in run.stderr and "training 1 [" in run.stderr  # progress bars
    assert any(name.endswith("/model.onnx") for name in _zip_names(tmp_path / "soils.zip"))

    # The command line: one logical command per line, a separator after each.
    script = readme_block("cli-examples", "sh").replace("--model 4", "--model 3")
    script = re.sub(
        r"^export PICSORT_URL=.*$",
        f"export PICSORT_URL={live_server.url} PICSORT_TOKEN={token}",
        script,
        flags=re.M,
    )
    lines = [
        f"{line}\necho '---'" if line.startswith("picsort ") else line
        for line in script.splitlines()
    ]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    shell = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert shell.returncode == 0, shell.stderr[-3000:]
    outputs = shell.stdout.split("---\n")[:-1]
    assert len(outputs) == 5
    with (tmp_path / "out.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["file"] for row in rows] == ["photos/a.jpg", "photos/b.jpg"]
    assert rows[0]["class"] == "espresso" and rows[0]["class_key"] == "n07920052"
    assert (tmp_path / "sorted" / "espresso" / "a.jpg").exists()
    assert len(list((tmp_path / "sorted").rglob("*.jpg"))) == 2
    assert outputs[2].strip() == "classifier 2 trained: model 3\nsaved soils.zip"
    assert json.loads(outputs[3])["class"] in SOILS
    history = json.loads(outputs[4])
    assert len(history) == 5 and "café exprés" in outputs[4]


def _zip_names(path: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.namelist()
