"""The picsort command (the console script make install puts in .venv/bin)
against a live server and a real worker: train a classifier from a folder of
class folders, classify with it into a CSV, sort photos into class folders."""

import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from picsort import Client

from tests.conftest import photo
from tests.training.examples import crops

pytestmark = pytest.mark.django_db(transaction=True)

PICSORT = Path(sys.executable).parent / "picsort"
SOURCES = {"brick": "brick.png", "grass": "grass.png", "gravel": "gravel.png"}


def picsort(*args: str, url: str, token: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PICSORT_URL": url, "PICSORT_TOKEN": token}
    return subprocess.run(
        [str(PICSORT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_train_classify_and_sort_from_the_command_line(
    live_server, token, imagenet_model, worker, tmp_path
):
    assert PICSORT.exists(), "make install puts the picsort command in the virtualenv"
    for index, (name, source) in enumerate(SOURCES.items()):
        folder = tmp_path / "examples" / name
        folder.mkdir(parents=True)
        for number, data in enumerate(crops(source, 6, seed=index)):
            (folder / f"{number}.jpg").write_bytes(data)
    run = lambda *args: picsort(*args, url=live_server.url, token=token, cwd=tmp_path)  # noqa: E731

    trained = run(
        "--wait-timeout", "240", "train", "examples", "--name", "Soils", "--download", "soils.zip"
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    model = int(trained.stdout.split("model ")[1].split()[0])
    assert "training" in trained.stderr and "100%" in trained.stderr  # the progress lines
    names = zipfile.ZipFile(tmp_path / "soils.zip").namelist()
    assert any(name.endswith("/model.onnx") for name in names)

    photos = tmp_path / "photos"
    photos.mkdir()
    for name, source in SOURCES.items():
        (photos / f"{name}-new.jpg").write_bytes(crops(source, 1, seed=50)[0])
    classified = run("classify", "photos", "--model", str(model), "--csv", "out.csv")
    assert classified.returncode == 0, classified.stderr[-3000:]
    with (tmp_path / "out.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [Path(row["file"]).name for row in rows] == [
        "brick-new.jpg",
        "grass-new.jpg",
        "gravel-new.jpg",
    ]
    assert sum(Path(row["file"]).name.startswith(row["class"]) for row in rows) >= 2
    assert all(0 < float(row["probability"]) <= 1 for row in rows)

    (photos / "notes.jpg").write_bytes(b"not a photo")
    sorted_run = run("sort", "photos", "--into", "sorted", "--model", str(model), "-q")
    assert sorted_run.returncode == 1  # one photo could not be sorted
    assert "notes.jpg" in sorted_run.stderr and "3 of 4 photos sorted" in sorted_run.stderr
    copied = sorted(
        p.relative_to(tmp_path / "sorted") for p in (tmp_path / "sorted").rglob("*.jpg")
    )
    assert len(copied) == 3 and {p.parent.name for p in copied} <= {*SOURCES, "unsure"}
    assert (tmp_path / "photos" / "brick-new.jpg").exists()  # copied, not moved

    listed = run("classifiers")
    assert listed.returncode == 0 and '"name": "Soils"' in listed.stdout

    # The same classifier through the Python API.
    with Client(live_server.url, token, progress=False) as client:
        [soils] = client.classifiers()
        assert [v["model"] for v in client.classifier_versions(soils["id"])] == [model]
        added = client.examples_add(
            soils["id"], "brick", ("more.jpg", crops("brick.png", 1, seed=77)[0])
        )
        assert added["added"] == {"brick": 1}
        updated = client.classifier_update(soils["id"], confidence_threshold=0.6)
        assert updated["confidence_threshold"] == 0.6
        [first] = client.history(limit=1)
        feedback = client.feedback_send(first["id"], correct="grass")
        assert feedback["correct_key"]
        client.classifier_delete(soils["id"])
        assert client.classifiers() == []


def test_classify_files_json_me_history_and_errors(live_server, token, imagenet_model, tmp_path):
    (tmp_path / "coffee.png").write_bytes(photo("coffee.png"))
    run = lambda *args: picsort(*args, url=live_server.url, token=token, cwd=tmp_path)  # noqa: E731
    answered = run("classify", "coffee.png", "--json", "--top-k", "1")
    assert answered.returncode == 0, answered.stderr
    assert '"class_key": "n07920052"' in answered.stdout
    plain = run("--lang", "es", "classify", "coffee.png", "--no-store")
    assert plain.returncode == 0 and "café exprés" in plain.stdout
    assert run("me").returncode == 0
    history = run("history", "--limit", "1")
    assert history.returncode == 0 and history.stdout.count('"original_name"') == 1
    # Errors: the API's code and message, and a non-zero exit.
    refused = picsort("me", url=live_server.url, token="pst_wrong", cwd=tmp_path)
    assert refused.returncode == 1 and "authentication_failed" in refused.stderr
    unknown = run("classify", "coffee.png", "--model", "nothing-here")
    assert unknown.returncode == 1 and "unknown_model" in unknown.stderr
    usage = run("sort", "coffee.png")  # --into is required
    assert usage.returncode == 2 and "--into" in usage.stderr
