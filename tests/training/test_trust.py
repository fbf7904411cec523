"""How far to trust a trained classifier, on real photos: "none of these" for
photos unlike the examples (a distance the exported model answers), calibrated
confidences, the checks on the examples before training and the learning curve."""

import io

import numpy as np
import onnxruntime as ort
import pytest
from django.urls import reverse
from PIL import Image

from classification import inference
from classification import services as classification
from core.exceptions import ApplicationError
from core.uploads import Upload
from models_registry.models import ModelVersion
from tests.conftest import photo
from tests.training.examples import TEXTURES, crops
from training import calibration, checks, selectors, services
from training.models import Example

pytestmark = pytest.mark.django_db

UNLIKE = ["coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg"]


def _classify(user, version, data, name="p.jpg"):
    (prediction,) = classification.classify_uploads(
        user=user, uploads=[Upload(name, data)], version=version, store=False
    )
    return prediction


def test_photos_unlike_the_examples_are_none_of_these(trained, user):
    classifier, run = trained
    version = ModelVersion.objects.get(pk=run.model_version_id)
    novelty = run.metrics["none_of_these"]
    # The threshold was set for the target rate on photos like the examples that
    # their centroids never saw: the validation photos and the left-out training ones.
    distances = np.array([item["distance"] for item in run.metrics["validation"]])
    assert version.distance_threshold == novelty["threshold"] > distances.min()
    assert novelty["photos"] == 24 and 0 < novelty["turned_away"] <= novelty["target_rate"]
    assert novelty["validation_distances"] == sorted(distances.tolist())
    assert novelty["table"] and any(row["chosen"] for row in novelty["table"])

    # The exported model answers the distance next to the probabilities.
    with version.onnx_file.open("rb") as handle:
        session = ort.InferenceSession(handle.read(), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()][1] == "distance"

    for name in UNLIKE:
        prediction = _classify(user, version, photo(name), name)
        assert prediction.none_of_these, name
        assert prediction.none_of_these_reason == "unlike_examples"
    # New photos of the same materials are mostly answered, and answered right (with
    # 6 examples a class, a few new ones lie farther than any example did).
    answered = right = 0
    for index, source in enumerate(TEXTURES.values()):
        for data in crops(source, 3, seed=200 + index):
            prediction = _classify(user, version, data)
            answered += not prediction.none_of_these
            right += not prediction.none_of_these and prediction.results[0]["index"] == index
    assert answered >= 6 and right == answered

    # The owner can move the threshold, or turn the check off.
    services.classifier_set_distance_threshold(classifier=classifier, threshold=None)
    version.refresh_from_db()
    assert not _classify(user, version, photo("coffee.png")).none_of_these
    with pytest.raises(ApplicationError):
        services.classifier_set_distance_threshold(classifier=classifier, threshold=2.5)


def test_served_confidences_are_the_calibrated_ones(trained, user):
    _classifier, run = trained
    fit = run.metrics["temperature"]
    assert 0.25 <= fit["temperature"] <= 4.0
    assert fit["ece_after"] == run.metrics["calibration"]["ece"]
    assert {"ece_before", "bins_before"} <= set(fit)
    version = ModelVersion.objects.get(pk=run.model_version_id)
    # A validation photo served now gets the confidence the calibrated head gave it.
    item = run.metrics["validation"][0]
    with Example.objects.get(pk=item["example"]).file.open("rb") as handle:
        served = inference.classify(handle.read(), version, top_k=1)[0]
    assert served.index == item["predicted"]
    assert served.probability == pytest.approx(item["confidence"], abs=2e-3)


def test_temperature_scaling_mends_overconfident_answers():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 400)
    logits = rng.normal(0, 1, (400, 3))
    logits[np.arange(400), truth] += 1.0  # right about 60 % of the time...
    logits *= 6  # ...but nearly always sure
    temperature = calibration.fit_temperature(logits, truth)
    report = calibration.calibration_report(logits, truth, temperature)
    assert temperature > 2
    assert report["ece_after"] < report["ece_before"] / 2


def _copy(data: bytes) -> bytes:
    """The same photo saved again, a little smaller."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    buffer = io.BytesIO()
    image.resize((140, 140)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_checks_find_copies_outliers_and_alike_classes_and_one_click_fixes(textures, user, client):
    brick = crops("brick.png", 1, seed=0)[0]
    services.class_add(classifier=textures, name="ladrillo rojo")
    services.examples_add(
        classifier=textures,
        uploads_by_class={
            "hierba": [
                Upload("brick-in-grass.jpg", brick),
                Upload("coffee.jpg", photo("coffee.png")),
            ],
            "ladrillo rojo": [
                Upload(f"more-brick-{i}.jpg", data)
                for i, data in enumerate(crops("brick.png", 6, seed=9))
            ],
            "grava": [Upload("gravel-again.jpg", _copy(crops("gravel.png", 8, seed=2)[3]))],
        },
    )
    client.force_login(user)
    before = selectors.classifier_checks(classifier=textures)
    assert before["pending"] == Example.objects.count() and before["count"] == 0
    response = client.post(reverse("training:look", args=[textures.pk]))
    assert response.status_code == 302 and response["Location"].endswith("#checks")
    # At most LOOK_PER_REQUEST at a time (33 examples here): look again for the rest.
    assert selectors.classifier_checks(classifier=textures)["pending"] == 1
    client.post(reverse("training:look", args=[textures.pk]))
    found = selectors.classifier_checks(classifier=textures)
    assert found["pending"] == 0

    across = {frozenset((p["first"]["cls"], p["second"]["cls"])) for p in found["across"]}
    assert frozenset(("ladrillo", "hierba")) in across
    assert [p["first"]["cls"] for p in found["within"]] == ["grava"]
    coffee = Example.objects.get(original_name="coffee.jpg")
    assert coffee.pk in {o["id"] for o in found["outliers"]}
    assert {frozenset((a["first"], a["second"])) for a in found["alike"]} == {
        frozenset(("ladrillo", "ladrillo rojo"))
    }

    page = client.get(reverse("training:detail", args=[textures.pk])).content.decode()
    assert 'data-testid="check-across"' in page and 'data-testid="checks-link"' in page
    # One click removes the outlier; it is gone from the checks.
    response = client.post(
        reverse("training:example_delete", args=[textures.pk, coffee.pk]), {"next": "checks"}
    )
    assert response["Location"].endswith("#checks")
    after = selectors.classifier_checks(classifier=textures)
    assert coffee.pk not in {o["id"] for o in after["outliers"]}


def test_a_clean_set_has_nothing_to_fix(textures, monkeypatch):
    services.examples_look(classifier=textures)
    found = selectors.classifier_checks(classifier=textures)
    assert found["looked"] == 24 and found["count"] == 0 and not found["limited"]
    # Only the newest examples are compared when there are many.
    monkeypatch.setattr(selectors, "CHECKS_MAX_EXAMPLES", 10)
    found = selectors.classifier_checks(classifier=textures)
    assert found["looked"] == 10 and found["limited"] and found["pending"] == 0


def test_learning_curve_and_split_leaks_on_the_runs_own_photos(trained):
    _classifier, run = trained
    curve = run.metrics["learning_curve"]
    sizes = [point["per_class"] for point in curve["points"]]
    assert sizes == sorted(sizes) and sizes[-1] == 6
    assert curve["reason"] in {"", "no_mistakes", "flat", "many"}
    assert (curve["more_per_class"] is None) == bool(curve["reason"])
    assert run.metrics["leaks"] == 0
    # A validation photo that is also a training photo is counted.
    vectors = np.random.default_rng(1).random((5, 16))
    assert checks.split_leaks(vectors, vectors[:2] * 1.01) == 2


def test_the_power_law_estimate():
    points = [{"per_class": n, "error": round(0.4 * (n / 2) ** -0.5, 4)} for n in (2, 4, 6, 8)]
    estimate = checks._estimate(points)
    # error ~ n^-0.5: halving it takes 4x the examples, 24 more per class from 8.
    assert estimate["more_per_class"] == 24 and not estimate["reason"]
    assert checks._estimate([{**p, "error": 0.0} for p in points])["reason"] == "no_mistakes"


def test_distance_threshold_through_the_api_and_the_page(trained, user, client, api_client):
    classifier, run = trained
    api_client.force_authenticate(user)
    url = reverse("api:classifier-detail", args=[classifier.pk])
    response = api_client.patch(url, {"distance_threshold": 0.5}, format="json")
    assert response.status_code == 200 and response.json()["distance_threshold"] == 0.5
    assert api_client.patch(url, {"distance_threshold": 3}, format="json").status_code == 400

    response = api_client.post(
        reverse("api:classification-list"),
        {"file": [_upload("coffee.png")], "model": str(run.model_version_id)},
        format="multipart",
    )
    assert response.status_code in (200, 201), response.json()
    (answer,) = response.json()["results"]
    assert answer["none_of_these"] and answer["none_of_these_reason"] == "unlike_examples"

    client.force_login(user)
    page = client.post(
        reverse("classification:classify"),
        {"file": _upload("coffee.png"), "model": str(run.model_version_id)},
    ).content.decode()
    assert "the photo is unlike the classifier’s examples" in page
    client.post(reverse("training:distance", args=[classifier.pk]), {"distance": "0.9"})
    assert ModelVersion.objects.get(pk=run.model_version_id).distance_threshold == 0.9
    page = client.get(reverse("training:detail", args=[classifier.pk])).content.decode()
    assert 'id="distance-form"' in page and 'id="distance-table"' in page
    run_page = client.get(reverse("training:run", args=[run.pk])).content.decode()
    assert 'data-testid="reliability"' in run_page and 'data-testid="learning-curve"' in run_page


def _upload(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, photo(name), content_type="image/png")


def test_the_checks_through_the_api(textures, user, other_user, api_client):
    services.examples_add(
        classifier=textures,
        uploads_by_class={"hierba": [Upload("coffee.jpg", photo("coffee.png"))]},
    )
    url = reverse("api:classifier-checks", args=[textures.pk])
    api_client.force_authenticate(other_user)
    assert api_client.get(url).status_code == 404
    api_client.force_authenticate(user)
    before = api_client.get(url).json()
    assert before["pending"] == 25 and before["outliers"] == []
    after = api_client.post(url).json()
    assert after["pending"] == 0 and after["looked"] == 25
    coffee = Example.objects.get(original_name="coffee.jpg")
    assert [o["id"] for o in after["outliers"]] == [coffee.pk]
