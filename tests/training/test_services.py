"""Classifiers, classes and examples: every limit and bad input is a clear
error, and a rejected request leaves nothing behind."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import ApplicationError
from core.uploads import Upload
from tests.models_registry.keras_files import zip_bytes
from tests.training.examples import TEXTURES, crops, texture_zip
from training import selectors, services
from training.models import Classifier, Example, ExampleImport, TrainingRun

pytestmark = pytest.mark.django_db


def _error(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        call()
    return error.value


def test_create_checks_names_and_counts(user, settings):
    settings.TRAINING_MAX_CLASSES = 3
    assert _error(
        lambda: services.classifier_create(user=user, name="x", class_names=["a"])
    ).code == ("too_few_classes")
    assert (
        _error(
            lambda: services.classifier_create(user=user, name="x", class_names=list("abcd"))
        ).code
        == "too_many_classes"
    )
    assert (
        _error(
            lambda: services.classifier_create(user=user, name="x", class_names=["Gato", "gato "])
        ).code
        == "duplicate_class"
    )
    assert _error(
        lambda: services.classifier_create(user=user, name="  ", class_names=["a", "b"])
    ).code == ("name_required")
    classifier = services.classifier_create(
        user=user, name="  Frutas  ", class_names=["manzana", "", "  pera  ", "<script>"]
    )
    assert classifier.name == "Frutas"
    assert [c.name for c in classifier.classes.all()] == ["manzana", "pera", "<script>"]
    assert (
        _error(
            lambda: services.classifier_create(user=user, name="Frutas", class_names=["a", "b"])
        ).status
        == 409
    )
    assert not Classifier.objects.filter(name="x").exists()


def test_too_many_classifiers_per_user(user, settings):
    settings.TRAINING_MAX_CLASSIFIERS_PER_USER = 1
    services.classifier_create(user=user, name="one", class_names=["a", "b"])
    error = _error(
        lambda: services.classifier_create(user=user, name="two", class_names=["a", "b"])
    )
    assert error.code == "too_many_classifiers" and error.status == 409


def test_examples_one_bad_file_rejects_the_request_and_keeps_nothing(user):
    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    good = crops("brick.png", 2)
    error = _error(
        lambda: services.examples_add(
            classifier=classifier,
            uploads_by_class={"a": [Upload("ok.jpg", good[0]), Upload("bad.jpg", b"not an image")]},
        )
    )
    assert "bad.jpg" in error.message
    assert not Example.objects.exists()


def test_duplicates_are_kept_once_and_counts_shown(user):
    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    data = crops("brick.png", 1)[0]
    added = services.examples_add(
        classifier=classifier,
        uploads_by_class={"A": [Upload("1.jpg", data), Upload("copy.jpg", data)]},
    )
    assert added == {"a": 1}
    rows = selectors.class_list(classifier=classifier)
    assert [(r["name"], r["examples"], r["few"]) for r in rows] == [("a", 1, True), ("b", 0, True)]
    assert (
        _error(
            lambda: services.examples_add(
                classifier=classifier, uploads_by_class={"c": [Upload("1.jpg", data)]}
            )
        ).code
        == "unknown_class"
    )


def test_example_limits(user, settings):
    settings.TRAINING_MAX_EXAMPLES_PER_CLASS = 2
    settings.UPLOAD_MAX_FILE_BYTES = 50_000
    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    three = [Upload(f"{i}.jpg", d) for i, d in enumerate(crops("grass.png", 3, size=64))]
    assert (
        _error(
            lambda: services.examples_add(classifier=classifier, uploads_by_class={"a": three})
        ).code
        == "too_many_examples"
    )
    big = Upload("big.jpg", b"\xff\xd8" + bytes(60_000))
    error = _error(
        lambda: services.examples_add(classifier=classifier, uploads_by_class={"a": [big]})
    )
    assert error.status == 413
    assert not Example.objects.exists()


def _import(classifier, user, data: bytes, capture):
    with capture(execute=True):  # the worker's task runs inline here
        job = services.example_import_start(
            classifier=classifier, user=user, archive=io.BytesIO(data)
        )
    job.refresh_from_db()
    return job


def test_zip_with_a_folder_per_class(user, django_capture_on_commit_callbacks):
    classifier = services.classifier_create(user=user, name="c", class_names=list(TEXTURES))
    job = _import(
        classifier, user, texture_zip(3, root="my photos/"), django_capture_on_commit_callbacks
    )
    assert (job.status, job.total, job.added, job.duplicates, job.failed) == (
        "succeeded",
        9,
        9,
        0,
        0,
    )
    assert {
        row["name"]: row["examples"] for row in selectors.class_list(classifier=classifier)
    } == {name: 3 for name in TEXTURES}
    assert not job.archive  # the zip is gone once the job ends
    again = _import(
        classifier, user, texture_zip(3, root="my photos/"), django_capture_on_commit_callbacks
    )
    assert (again.added, again.duplicates) == (0, 9)

    unknown = zip_bytes({"gato/1.jpg": crops("brick.png", 1)[0]})
    error = _error(
        lambda: services.example_import_start(
            classifier=classifier, user=user, archive=io.BytesIO(unknown)
        )
    )
    assert "gato" in error.message
    loose = zip_bytes({"1.jpg": crops("brick.png", 1)[0]})
    error = _error(
        lambda: services.example_import_start(
            classifier=classifier, user=user, archive=io.BytesIO(loose)
        )
    )
    assert error.code == "zip_needs_folders"
    assert classifier.imports.count() == 2  # refused zips leave no job behind


def test_a_zip_with_bad_photos_adds_the_good_ones_and_lists_the_others(
    user, django_capture_on_commit_callbacks
):
    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    good = crops("brick.png", 3)
    data = zip_bytes(
        {
            "a/1.jpg": good[0],
            "a/broken.jpg": good[1][:200],
            "b/2.jpg": good[2],
            "b/notes.txt": b"not a photo",
        }
    )
    job = _import(classifier, user, data, django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.failed) == ("succeeded", 2, 2)
    assert {p["file"] for p in job.problems} == {"broken.jpg", "notes.txt"}
    assert all(p["error"] for p in job.problems)
    assert Example.objects.filter(classifier_class__classifier=classifier).count() == 2


def test_an_import_resumes_where_its_dead_worker_stopped(user, django_capture_on_commit_callbacks):
    from core.jobs import job_claim

    classifier = services.classifier_create(user=user, name="c", class_names=list(TEXTURES))
    job = services.example_import_start(
        classifier=classifier, user=user, archive=io.BytesIO(texture_zip(2))
    )
    # A worker claimed it, added two photos and died (its lease expired).
    from core.photo_imports import _import_one
    from core.zips import zip_open

    assert job_claim(job=job, worker="dead")
    with job.archive.open("rb") as handle:
        archive = zip_open(handle)
        _import_one(job, archive, 0)
        _import_one(job, archive, 1)
    ExampleImport.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    finished = services.example_import_run(import_id=job.pk, worker="next")
    assert (finished.status, finished.position, finished.added, finished.duplicates) == (
        "succeeded",
        6,
        6,
        0,
    )
    assert finished.attempts == 2
    assert Example.objects.filter(classifier_class__classifier=classifier).count() == 6


def test_training_waits_for_an_import(user, imagenet_model):
    classifier = services.classifier_create(user=user, name="c", class_names=list(TEXTURES))
    services.examples_add(
        classifier=classifier,
        uploads_by_class={
            name: [Upload(f"{i}.jpg", d) for i, d in enumerate(crops(src, 2, seed=3))]
            for name, src in TEXTURES.items()
        },
    )
    services.example_import_start(
        classifier=classifier, user=user, archive=io.BytesIO(texture_zip(1))
    )
    error = _error(lambda: services.training_start(classifier=classifier, user=user))
    assert (error.code, error.status) == ("import_running", 409)


def test_files_in_one_request_are_bounded(user, settings):
    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    photos = crops("brick.png", 4, size=400)
    settings.EXAMPLES_MAX_FILES_PER_REQUEST = 3
    error = _error(
        lambda: services.examples_add(
            classifier=classifier,
            uploads_by_class={"a": [Upload(f"{i}.jpg", d) for i, d in enumerate(photos)]},
        )
    )
    assert error.code == "too_many_files"
    settings.EXAMPLES_MAX_FILES_PER_REQUEST = 50
    settings.UPLOAD_MAX_REQUEST_PIXELS = 3 * 400 * 400  # JPEGs of 400x400 count as decoded
    error = _error(
        lambda: services.examples_add(
            classifier=classifier,
            uploads_by_class={"a": [Upload(f"{i}.jpg", d) for i, d in enumerate(photos)]},
        )
    )
    assert (error.code, error.status) == ("too_many_pixels", 413)
    assert not Example.objects.exists()


def test_training_needs_examples_and_runs_once_at_a_time(user, imagenet_model, settings):
    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    services.examples_add(
        classifier=classifier,
        uploads_by_class={
            "a": [Upload(f"{i}.jpg", d) for i, d in enumerate(crops("brick.png", 3))]
        },
    )
    error = _error(lambda: services.training_start(classifier=classifier, user=user))
    assert error.code == "too_few_examples" and "b" in error.message
    services.examples_add(
        classifier=classifier,
        uploads_by_class={
            "b": [Upload(f"{i}.jpg", d) for i, d in enumerate(crops("grass.png", 2))]
        },
    )
    first, created = services.training_start(classifier=classifier, user=user)
    again, created_again = services.training_start(classifier=classifier, user=user)
    assert created and not created_again and again == first
    assert TrainingRun.objects.count() == 1

    # A second classifier of the same user waits for the first (configurable).
    other = services.classifier_create(user=user, name="d", class_names=["a", "b"])
    for name, source in (("a", "brick.png"), ("b", "grass.png")):
        services.examples_add(
            classifier=other,
            uploads_by_class={
                name: [Upload(f"{i}.jpg", d) for i, d in enumerate(crops(source, 2))]
            },
        )
    error = _error(lambda: services.training_start(classifier=other, user=user))
    assert error.status == 429 and error.code == "too_many_training_jobs"
    settings.TRAINING_MAX_CONCURRENT_PER_USER = 2
    assert services.training_start(classifier=other, user=user)[1]


def test_the_database_allows_one_active_run_per_classifier(user):
    from django.db import IntegrityError, transaction

    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    TrainingRun.objects.create(classifier=classifier, user=user, number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingRun.objects.create(classifier=classifier, user=user, number=2)


def test_no_backbone_is_a_clear_error(user):
    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    for name, source in (("a", "brick.png"), ("b", "grass.png")):
        services.examples_add(
            classifier=classifier,
            uploads_by_class={
                name: [Upload(f"{i}.jpg", d) for i, d in enumerate(crops(source, 2))]
            },
        )
    error = _error(lambda: services.training_start(classifier=classifier, user=user))
    assert error.code == "no_backbone" and error.status == 503


def test_deleting_the_account_takes_classifiers_models_and_files(
    trained, user, django_capture_on_commit_callbacks
):
    from pathlib import Path

    from django.conf import settings

    from models_registry.models import LabelSet, ModelVersion

    _classifier, run = trained
    files = [Path(settings.MEDIA_ROOT) / run.model_version.file.name]
    files += [Path(settings.MEDIA_ROOT) / run.model_version.onnx_file.name]
    files += [Path(e.file.path) for e in Example.objects.all()]
    assert all(f.exists() for f in files)
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert not ModelVersion.objects.filter(source="training").exists()
    assert not LabelSet.objects.filter(owner__isnull=False).exists()
    assert not Example.objects.exists()
    assert not any(f.exists() for f in files)
