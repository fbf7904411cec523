"""The evaluation API as a client uses it: staff measure shared models on
staff sets, users measure their own classifiers on private sets, nobody sees
anybody else's; replays and the feedback inbox are for staff."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from classification.models import Prediction
from models_registry import services as registry
from models_registry.models import ModelAlias
from tests.accounts.factories import UserFactory
from tests.classification.images import encode
from tests.evaluation.helpers import COLOURS, classify_colour, colour_photos, zip_of

pytestmark = pytest.mark.django_db


def _zip(members) -> SimpleUploadedFile:
    return SimpleUploadedFile("set.zip", zip_of(members).getvalue())


def test_staff_measure_and_compare_shared_models(
    api_client,
    colours_live,
    django_capture_on_commit_callbacks,
):
    good, worse = colours_live
    staff = UserFactory(is_staff=True)
    api_client.force_authenticate(staff)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(
            "/api/v1/evaluation-sets/",
            {"name": "colours", "label_set": good.label_set_id, "archive": _zip(colour_photos())},
            format="multipart",
        )
    assert answer.status_code == 202, answer.json()
    evaluation_set = api_client.get(answer["Location"]).json()
    assert (evaluation_set["status"], evaluation_set["added"]) == ("succeeded", 9)
    ids = []
    for version in (good, worse):
        with django_capture_on_commit_callbacks(execute=True):
            answer = api_client.post(
                "/api/v1/evaluations/",
                {"model": version.pk, "evaluation_set": evaluation_set["id"]},
                format="json",
            )
        assert answer.status_code == 202, answer.json()
        report = api_client.get(answer["Location"]).json()
        assert report["status"] == "succeeded" and "calibration" in report["report"]
        ids.append(report["id"])
    comparison = api_client.get(
        "/api/v1/evaluations/compare/", {"before": ids[0], "after": ids[1]}
    ).json()
    assert comparison["numbers"]["accuracy"]["after"] < comparison["numbers"]["accuracy"]["before"]
    assert len(comparison["changed"]) == 3

    # Another user sees none of it, and may not make staff sets.
    api_client.force_authenticate(UserFactory())
    assert api_client.get("/api/v1/evaluation-sets/").json()["count"] == 0
    assert api_client.get(f"/api/v1/evaluations/{ids[0]}/").status_code == 404
    assert (
        api_client.get(
            "/api/v1/evaluations/compare/", {"before": ids[0], "after": ids[1]}
        ).status_code
        == 404
    )
    answer = api_client.post(
        "/api/v1/evaluation-sets/",
        {"name": "x", "label_set": good.label_set_id, "archive": _zip(colour_photos(1))},
        format="multipart",
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "label_set_required"


def test_a_user_measures_their_own_classifier_on_a_private_set(
    api_client, trained, user, django_capture_on_commit_callbacks
):
    from tests.training.examples import TEXTURES, crops

    classifier, run = trained
    api_client.force_authenticate(user)
    members = {
        f"{name}/{n}.jpg": data
        for i, (name, source) in enumerate(TEXTURES.items())
        for n, data in enumerate(crops(source, 4, seed=100 + i))
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(
            "/api/v1/evaluation-sets/",
            {"name": "held out", "classifier": classifier.pk, "archive": _zip(members)},
            format="multipart",
        )
    assert answer.status_code == 202, answer.json()
    evaluation_set = api_client.get(answer["Location"]).json()
    assert evaluation_set["private"] and evaluation_set["added"] == 12
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(
            "/api/v1/evaluations/",
            {"model": run.model_version_id, "evaluation_set": evaluation_set["id"]},
            format="json",
        )
    report = api_client.get(answer["Location"]).json()["report"]
    assert report["photos"] == 12 and report["accuracy"] >= 0.5
    assert len(report["per_class"]) == 3  # a few classes: the full table
    # Staff do not see users' private sets either.
    api_client.force_authenticate(UserFactory(is_staff=True))
    assert api_client.get(f"/api/v1/evaluation-sets/{evaluation_set['id']}/").status_code == 404


def test_replays_and_the_inbox_are_for_staff(
    api_client,
    colours_live,
    django_capture_on_commit_callbacks,
):
    _good, worse = colours_live
    alice = UserFactory()
    classify_colour(alice, "green")
    api_client.force_authenticate(alice)
    assert api_client.post("/api/v1/replays/", {"model": worse.pk}).status_code == 403
    assert api_client.get("/api/v1/feedback/").status_code == 403

    api_client.force_authenticate(UserFactory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post("/api/v1/replays/", {"model": worse.pk}, format="json")
    assert answer.status_code == 202, answer.json()
    replay = api_client.get(answer["Location"]).json()
    assert (replay["report"]["replayed"], replay["report"]["changed"]) == (1, 1)
    approved = api_client.post(f"/api/v1/replays/{replay['id']}/approve/").json()
    assert approved["decision"] == "approved"
    assert ModelAlias.objects.get(name="default").version == worse


def test_feedback_through_the_api(api_client, colours_live):
    _good, worse = colours_live
    registry.model_alias_point(alias="default", version=worse)
    alice = UserFactory()
    prediction = classify_colour(alice, "green")
    api_client.force_authenticate(alice)
    url = f"/api/v1/classifications/{prediction.pk}/feedback/"
    answer = api_client.post(url, {"correct": "green"}, format="json")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "consent_required"
    answer = api_client.post(url, {"correct": "green", "consent": True}, format="json")
    assert answer.status_code == 201 and answer.json()["status"] == "inbox"
    api_client.force_authenticate(UserFactory())
    assert (
        api_client.post(url, {"correct": "red", "consent": True}, format="json").status_code == 404
    )
    api_client.force_authenticate(UserFactory(is_staff=True))
    assert api_client.get("/api/v1/feedback/").json()["count"] == 1
    rows = api_client.get("/api/v1/feedback/disagreement/").json()["results"]
    assert rows == [
        {"version": worse.pk, "predicted_key": "blue", "correct_key": "green", "count": 1}
    ]


def test_a_classification_remembers_the_alias_it_was_asked_through(
    api_client, client, user, colours_live
):
    good, _worse = colours_live
    photo = encode(Image.new("RGB", (40, 30), COLOURS["red"]), "PNG")
    api_client.force_authenticate(user)
    for model, alias in (("default", "default"), (str(good.pk), "")):
        answer = api_client.post(
            "/api/v1/classifications/",
            {"file": SimpleUploadedFile("red.png", photo), "model": model},
            format="multipart",
        )
        assert answer.status_code == 201, answer.json()
        assert Prediction.objects.get(pk=answer.json()["results"][0]["id"]).alias == alias
    client.force_login(user)
    client.post(
        reverse("classification:classify"),
        {"file": SimpleUploadedFile("red.png", photo), "model": "default", "store": "on"},
    )
    assert Prediction.objects.latest("id").alias == "default"
