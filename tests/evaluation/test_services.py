"""Evaluation sets, evaluations and their comparison, on real models: the
pretrained network on real photographs, and two small ONNX models (one of them
worse) on photos of plain colours."""

import pytest
from PIL import Image

from core.exceptions import ApplicationError
from evaluation import services
from evaluation.models import Evaluation, EvaluationSet
from tests.accounts.factories import UserFactory
from tests.classification.images import encode
from tests.conftest import photo
from tests.evaluation.conftest import colour_models
from tests.evaluation.helpers import colour_photos, zip_of
from tests.models_registry.factories import LabelSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def colour_versions(db):
    return colour_models()


def _ready_set(label_set, members, user, capture, **kwargs) -> EvaluationSet:
    with capture(execute=True):  # the import runs inline here
        evaluation_set = services.evaluation_set_start(
            name="colours", label_set=label_set, archive=zip_of(members), user=user, **kwargs
        )
    evaluation_set.refresh_from_db()
    return evaluation_set


def _evaluate(version, evaluation_set, user, capture) -> Evaluation:
    with capture(execute=True):
        evaluation = services.evaluation_start(
            version=version, evaluation_set=evaluation_set, user=user
        )
    evaluation.refresh_from_db()
    assert evaluation.status == "succeeded", evaluation.error
    return evaluation


def test_a_set_is_versioned_and_folders_may_name_classes_in_any_language(
    staff, django_capture_on_commit_callbacks
):
    label_set = LabelSetFactory(name="animals", classes=("cat", "dog", "bird"))
    members = {
        "cat/1.png": encode(Image.new("RGB", (30, 30), (1, 2, 3)), "PNG"),
        "DOG-es/2.png": encode(Image.new("RGB", (30, 30), (4, 5, 6)), "PNG"),  # a translation
        "bird/3.png": b"not a photo",
        "cat/copy.png": encode(Image.new("RGB", (30, 30), (1, 2, 3)), "PNG"),
    }
    first = _ready_set(label_set, members, staff, django_capture_on_commit_callbacks)
    assert (first.status, first.version, first.added, first.duplicates, first.failed) == (
        "succeeded",
        1,
        2,
        1,
        1,
    )
    assert set(first.photos.values_list("label_key", flat=True)) == {"cat", "dog"}
    second = _ready_set(label_set, members, staff, django_capture_on_commit_callbacks)
    assert second.version == 2 and not second.archive
    unknown = zip_of({"horse/1.png": members["cat/1.png"]})
    with pytest.raises(ApplicationError) as error:
        services.evaluation_set_start(name="x", label_set=label_set, archive=unknown, user=staff)
    assert error.value.code == "unknown_class" and "horse" in error.value.message


def test_the_pretrained_model_on_real_photographs(
    staff, imagenet_model, django_capture_on_commit_callbacks
):
    members = {
        "espresso/coffee.png": photo("coffee.png"),
        "Tabby Cat/chelsea.png": photo("chelsea.png"),  # English name of n02123045
        "n04485082/camera.png": photo("camera.png"),  # tripod, by its key
        "goldfish/astronaut.png": photo("astronaut.png"),  # surely wrong
    }
    evaluation_set = _ready_set(
        imagenet_model.label_set, members, staff, django_capture_on_commit_callbacks
    )
    report = _evaluate(imagenet_model, evaluation_set, staff, django_capture_on_commit_callbacks)
    report = report.report
    assert report["photos"] == 4 and report["skipped"] == 0
    # Espresso and tripod right; the cat answered "Egyptian cat" (tabby among its top 5).
    assert (report["accuracy"], report["top5_accuracy"]) == (0.5, 0.75)
    assert isinstance(report["per_class"], dict)  # 1000 classes: only those that occur
    assert report["calibration"]["bins"] and 0 <= report["calibration"]["ece"] <= 1
    assert len(report["answers"]) == 4 and {a[0] for a in report["answers"]} == set(
        evaluation_set.photos.values_list("pk", flat=True)
    )


def test_a_grouping_is_measured_through_its_groups(
    staff, imagenet_model, django_capture_on_commit_callbacks
):
    from models_registry.bootstrap import groupings_ensure

    (grouping,) = [
        v for v in groupings_ensure(base_version=imagenet_model) if v.name.startswith("Pets")
    ]
    members = {
        "gato atigrado/chelsea.png": photo("chelsea.png"),
        "espresso/coffee.png": photo("coffee.png"),
    }
    evaluation_set = _ready_set(
        imagenet_model.label_set, members, staff, django_capture_on_commit_callbacks
    )
    report = _evaluate(grouping, evaluation_set, staff, django_capture_on_commit_callbacks).report
    cat = grouping.label_set.labels.get(key="cat").index
    answers = {row[0]: row for row in report["answers"]}
    chelsea = evaluation_set.photos.get(original_name="chelsea.png")
    assert answers[chelsea.pk][1] == cat  # a tabby counts as right when answered "cat"
    assert report["photos"] == 2  # the espresso counts as "not a pet" (the catch-all)


def test_two_versions_compared_side_by_side(
    staff, colour_versions, django_capture_on_commit_callbacks
):
    good, worse = colour_versions
    label_set = good.label_set
    evaluation_set = _ready_set(
        label_set, colour_photos(), staff, django_capture_on_commit_callbacks
    )
    before = _evaluate(good, evaluation_set, staff, django_capture_on_commit_callbacks)
    after = _evaluate(worse, evaluation_set, staff, django_capture_on_commit_callbacks)
    assert before.report["accuracy"] == 1.0 and after.report["accuracy"] == pytest.approx(0.6667)
    comparison = services.evaluation_compare(before=before, after=after)
    assert comparison["numbers"]["accuracy"] == {"before": 1.0, "after": 0.6667}
    assert comparison["classes"][0]["class"] in {"green", "blue"}  # got worse first
    assert len(comparison["changed"]) == 3  # the three green photos
    assert {c["before"] for c in comparison["changed"]} == {"green"}
    assert all(c["broken"] and not c["fixed"] for c in comparison["changed"])


def test_who_may_evaluate_what(colour_versions, django_capture_on_commit_callbacks):
    good, _worse = colour_versions
    label_set = good.label_set
    staff, user = UserFactory(is_staff=True), UserFactory()
    staff_set = _ready_set(label_set, colour_photos(1), staff, django_capture_on_commit_callbacks)
    for who in (user,):
        with pytest.raises(ApplicationError) as error:
            services.evaluation_start(version=good, evaluation_set=staff_set, user=who)
        assert error.value.status == 404
    importing = services.evaluation_set_start(
        name="later", label_set=label_set, archive=zip_of(colour_photos(1)), user=staff
    )
    with pytest.raises(ApplicationError) as error:
        services.evaluation_start(version=good, evaluation_set=importing, user=staff)
    assert error.value.code == "set_not_ready"
