"""picsort.Client against a live server: files, bytes, paths and folders are
classified, errors carry the API's JSON, lists follow their pages."""

import io

import pytest
from picsort import JobFailedError, PicsortError

from tests.conftest import photo

pytestmark = pytest.mark.django_db(transaction=True)

ESPRESSO = "n07920052"


def test_classifies_paths_bytes_open_files_and_pairs(picsort, tmp_path):
    path = tmp_path / "coffee.png"
    path.write_bytes(photo("coffee.png"))
    handle = io.BytesIO(photo("coffee.png"))
    handle.name = "/somewhere/cup.png"
    results = picsort.classify(
        path, photo("chelsea.png"), ("rocket.jpg", photo("rocket.jpg")), handle, b"not an image"
    )
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.name for r in results] == [
        "coffee.png",
        "image-2",
        "rocket.jpg",
        "cup.png",
        "image-5",
    ]
    first = results[0]
    assert first.ok and first.top.key == ESPRESSO and first.source == path
    assert 0 < first.top.probability <= 1 and len(first.classes) == 5
    assert results[3].top.key == ESPRESSO and results[3].source is None
    assert not results[4].ok and results[4].error_code == "not_an_image" and results[4].error
    assert picsort.classification(first.id)["original_name"] == "coffee.png"

    # History: every page, filters passed through as they are.
    assert len(picsort.history()) == 4
    assert {c["original_name"] for c in picsort.history(label="espresso")} == {
        "coffee.png",
        "cup.png",
    }
    assert len(picsort.history(limit=1)) == 1
    picsort.classification_delete(first.id)
    with pytest.raises(PicsortError) as error:
        picsort.classification(first.id)
    assert error.value.status == 404 and error.value.code == "not_found"


def test_many_files_are_sent_in_requests_the_server_accepts(picsort, settings):
    settings.CLASSIFY_MAX_FILES = 20
    images = [(f"{n}.png", photo("coffee.png")) for n in range(23)]
    results = picsort.classify(*images, store=False, top_k=1)
    assert [r.index for r in results] == list(range(23))
    assert all(r.ok and r.top.key == ESPRESSO and len(r.classes) == 1 for r in results)
    assert {r.raw["image_url"] for r in results} == {None}  # store=False: no image kept
    assert len(picsort.history()) == 23  # two pages (20 a page), followed


def test_errors_carry_the_api_error_json(picsort, live_server):
    from picsort import Client

    with Client(live_server.url, "pst_wrong") as stranger, pytest.raises(PicsortError) as error:
        stranger.me()
    assert error.value.status == 401 and error.value.code == "authentication_failed"
    assert error.value.body["error"]["message"] == error.value.message
    assert "token" in error.value.message.lower()
    # One file that is not an image: the raw call raises with the file's reason;
    # classify() answers it as that file's result instead.
    with pytest.raises(PicsortError) as error:
        picsort.classify_raw(("notes.txt", b"hello"))
    assert error.value.code == "not_an_image"
    assert error.value.details["errors"][0]["file"] == "notes.txt"
    [result] = picsort.classify(("notes.txt", b"hello"))
    assert result.error_code == "not_an_image" and result.name == "notes.txt"
    with pytest.raises(PicsortError) as error:
        picsort.classify(photo("coffee.png"), model="no-such-model")
    assert error.value.status == 400 and error.value.code == "unknown_model"
    with pytest.raises(PicsortError, match="is a folder"):
        picsort.classify(photo("coffee.png"), ".")


def test_reads_me_models_aliases_and_label_sets(picsort, user, imagenet_model):
    assert picsort.me()["email"] == user.email
    assert picsort.classifiers() == []
    assert [m["id"] for m in picsort.models()] == [imagenet_model.pk]
    assert picsort.model(imagenet_model.pk)["name"] == "EfficientNet-Lite0"
    assert picsort.alias("default")["version"]["id"] == imagenet_model.pk
    assert "default" in {a["name"] for a in picsort.aliases()}
    label_set = imagenet_model.label_set_id
    assert picsort.label_set(label_set)["id"] == label_set
    assert picsort.label_sets()[0]["id"] == label_set
    labels = picsort.labels(label_set, limit=None)
    assert len(labels) == 1000  # every page followed
    diff = picsort.model_label_diff(imagenet_model.pk, imagenet_model.pk)
    assert diff["added"] == [] and diff["removed"] == [] and diff["renamed"] == []
    # Fields the client does not name go through as they are (here: the contract).
    pinned = picsort.classify(photo("coffee.png"), expected_version=imagenet_model.pk)
    assert pinned[0].top.key == ESPRESSO
    with pytest.raises(PicsortError) as error:
        picsort.classify(photo("coffee.png"), expected_version=imagenet_model.pk + 1)
    assert error.value.status == 412 and error.value.code == "version_changed"
    picsort.classification_delete(pinned[0].id)
    preview = picsort.preview(("coffee.png", photo("coffee.png")), top_k=1)
    assert preview["results"][0]["classes"][0]["key"] == ESPRESSO
    assert picsort.history() == []  # a preview keeps nothing


def test_a_folder_becomes_a_batch_run_by_a_worker(picsort, worker, tmp_path, capsys):
    folder = tmp_path / "photos"
    (folder / "kitchen").mkdir(parents=True)
    (folder / "a.png").write_bytes(photo("coffee.png"))
    (folder / "kitchen" / "b.jpg").write_bytes(photo("rocket.jpg"))
    (folder / "kitchen" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("not a photo: left out")
    (folder / ".hidden.png").write_bytes(photo("coffee.png"))
    picsort.progress = True
    results = picsort.classify(folder, top_k=2)
    assert [r.source for r in results] == [
        folder / "a.png",
        folder / "kitchen" / "b.jpg",
        folder / "kitchen" / "broken.jpg",
    ]
    assert results[0].ok and results[0].top.key == ESPRESSO and len(results[0].classes) == 2
    assert results[1].ok and results[2].error_code and not results[2].ok
    [batch] = picsort.batches()
    assert batch["status"] == "succeeded" and batch["total"] == 3 and batch["failed"] == 1
    assert picsort.classification(results[0].id)["original_name"] == "a.png"
    assert f"batch {batch['id']} [" in capsys.readouterr().err  # the progress bar
    target = tmp_path / "sorted.zip"
    picsort.batch_sorted_zip(batch["id"], target)
    import zipfile

    assert any(name.endswith("results.csv") for name in zipfile.ZipFile(target).namelist())


def test_a_failed_batch_raises_with_the_job(picsort, worker, tmp_path):
    import zipfile

    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("a.png", photo("coffee.png"))
    batch = picsort.batch_create(archive=archive, store=False)
    assert batch["status"] == "queued"
    batch = picsort.wait_batch(batch["id"])
    assert batch["status"] == "succeeded" and batch["store_images"] is False
    # A job that ended otherwise raises with its JSON.
    failed = {**batch, "status": "failed", "error": "it broke"}
    with pytest.raises(JobFailedError) as error:
        picsort._wait(lambda _pk: failed, failed, label="batch", timeout=None)
    assert error.value.job["error"] == "it broke" and "it broke" in str(error.value)


def test_waiting_gives_up_after_the_timeout(picsort, settings):
    from tests.client.conftest import QUEUES
    from tests.models_registry.test_worker import DB_BACKEND

    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": QUEUES}}  # and no worker
    batch = picsort.batch_create(("a.png", photo("coffee.png")))
    picsort.wait_timeout = 0.5
    with pytest.raises(PicsortError) as error:
        picsort.wait_batch(batch)
    assert error.value.code == "timeout" and error.value.body["status"] == "queued"


def test_a_classifiers_checks_are_read_and_looked_at(picsort):
    classifier = picsort.classifier_create("Soils", ["brick", "grass"])
    picsort.examples_add(classifier["id"], "brick", ("b.png", photo("brick.png")))
    checks = picsort.classifier_checks(classifier["id"])
    assert {"across", "within", "outliers", "alike", "pending"} <= set(checks)
    looked = picsort.classifier_checks(classifier["id"], look=True)
    assert looked["pending"] <= checks["pending"]
