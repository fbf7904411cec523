"""The evaluation pages as staff and owners use them: upload a set, measure
models, read the report (click a cell of the confusion matrix to see its
photos), compare two versions; and "wrong? the right class is" on a result."""

import re

import pytest
from django.urls import reverse

from classification.models import Prediction
from evaluation.models import Evaluation, EvaluationSet, Feedback
from tests.accounts.factories import UserFactory
from tests.evaluation.helpers import classify_colour, colour_photos, zip_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    client.user = staff
    return client


def _upload_set(client, capture, **fields) -> EvaluationSet:
    archive = zip_of(colour_photos(per_colour=3))
    archive.name = "colours.zip"
    with capture(execute=True):
        answer = client.post(
            reverse("evaluation:set_upload"), {"name": "colours", "archive": archive, **fields}
        )
    assert answer.status_code == 302, answer.content[:500]
    evaluation_set = EvaluationSet.objects.latest("id")
    assert answer["Location"] == reverse("evaluation:set", args=[evaluation_set.pk])
    return evaluation_set


def _evaluate(client, capture, evaluation_set, version) -> Evaluation:
    with capture(execute=True):
        answer = client.post(
            reverse("evaluation:evaluate", args=[evaluation_set.pk]), {"model": version.pk}
        )
    evaluation = Evaluation.objects.latest("id")
    assert answer["Location"] == reverse("evaluation:report", args=[evaluation.pk])
    return evaluation


def test_staff_upload_evaluate_click_through_and_compare(
    staff_client, colours_live, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    good, worse = colours_live
    page = staff_client.get(reverse("evaluation:sets")).content.decode()
    assert 'name="label_set"' in page  # staff may name a shared label set
    evaluation_set = _upload_set(staff_client, capture, label_set=good.label_set_id)
    page = staff_client.get(reverse("evaluation:set", args=[evaluation_set.pk])).content.decode()
    assert "9 added" in page and "green: <strong>3</strong>" in page
    assert 'data-testid="evaluate-form"' in page

    first = _evaluate(staff_client, capture, evaluation_set, good)
    second = _evaluate(staff_client, capture, evaluation_set, worse)
    report = staff_client.get(reverse("evaluation:report", args=[second.pk])).content.decode()
    assert re.search(r'class="stat">67%', report)  # green taken for blue: 6 of 9 right
    assert 'data-testid="confusion"' in report and 'data-testid="reliability"' in report
    assert 'data-testid="thresholds"' in report
    # Click-through: the cell "green answered as blue" shows those three photos.
    cell = staff_client.get(
        reverse("evaluation:report", args=[second.pk]), {"true": 1, "predicted": 2}
    ).content.decode()
    photos = re.findall(r'src="(/evaluation/photos/\d+/)"', cell)
    assert len(photos) == 3 and "3 photos of “green” answered as “blue”" in cell
    answer = staff_client.get(photos[0])
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    # A nonsense cell is ignored, not an error.
    assert (
        staff_client.get(
            reverse("evaluation:report", args=[second.pk]), {"true": "x", "predicted": 99}
        ).status_code
        == 200
    )

    compare = staff_client.get(
        reverse("evaluation:compare"), {"before": first.pk, "after": second.pk}
    ).content.decode()
    assert "3 photos answered differently" in compare
    assert "0 now right, 3 now wrong" in compare
    assert "green" in compare and "worse" in compare
    assert staff_client.get(reverse("evaluation:compare"), {"before": first.pk}).status_code == 404


def test_others_see_nothing_of_a_staff_set(
    client, staff_client, colours_live, django_capture_on_commit_callbacks
):
    good, _worse = colours_live
    evaluation_set = _upload_set(
        staff_client, django_capture_on_commit_callbacks, label_set=good.label_set_id
    )
    evaluation = _evaluate(staff_client, django_capture_on_commit_callbacks, evaluation_set, good)
    photo = evaluation_set.photos.first()
    client.force_login(UserFactory())
    for url in (
        reverse("evaluation:set", args=[evaluation_set.pk]),
        reverse("evaluation:report", args=[evaluation.pk]),
        reverse("evaluation:photo", args=[photo.pk]),
    ):
        assert client.get(url).status_code == 404, url
    page = client.get(reverse("evaluation:sets")).content.decode()
    assert "colours" not in page and "Train a classifier first" in page


def test_an_owner_measures_their_classifier_from_the_pages(
    client, trained, user, django_capture_on_commit_callbacks
):
    from tests.training.examples import TEXTURES, crops

    classifier, run = trained
    client.force_login(user)
    members = {
        f"{name}/{n}.jpg": data
        for i, (name, source) in enumerate(TEXTURES.items())
        for n, data in enumerate(crops(source, 3, seed=50 + i))
    }
    archive = zip_of(members)
    archive.name = "held-out.zip"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("evaluation:set_upload"),
            {"name": "held out", "classifier": classifier.pk, "archive": archive},
        )
    evaluation_set = EvaluationSet.objects.get(owner=user)
    assert answer["Location"] == reverse("evaluation:set", args=[evaluation_set.pk])
    page = client.get(answer["Location"]).content.decode()
    assert "9 added" in page and "hierba: <strong>3</strong>" in page
    evaluation = _evaluate(
        client, django_capture_on_commit_callbacks, evaluation_set, run.model_version
    )
    report = client.get(reverse("evaluation:report", args=[evaluation.pk])).content.decode()
    assert 'data-testid="per-class"' in report and "hierba" in report


def test_a_set_without_classes_or_zip_is_refused_with_a_message(client, user):
    client.force_login(user)
    answer = client.post(reverse("evaluation:set_upload"), {"name": "x"}, follow=True)
    assert "Give the set a name, its classes and a zip." in answer.content.decode()
    assert not EvaluationSet.objects.exists()


def test_feedback_from_a_result_page_and_an_unsafe_next(client, user, colours_live):
    prediction = classify_colour(user, "green")
    client.force_login(user)
    answer = client.post(
        reverse("evaluation:feedback", args=[prediction.pk]),
        {"correct": "blue", "consent": "on", "next": "https://elsewhere.example/"},
    )
    assert answer["Location"] == reverse("classification:prediction_detail", args=[prediction.pk])
    feedback = Feedback.objects.get(prediction=prediction)
    assert feedback.correct_key == "blue" and feedback.consent
    # Someone else's classification: 404, nothing recorded.
    other = classify_colour(UserFactory(), "red")
    assert (
        client.post(
            reverse("evaluation:feedback", args=[other.pk]), {"correct": "blue"}
        ).status_code
        == 404
    )
    assert not Feedback.objects.filter(prediction=other).exists()
    assert Prediction.objects.count() == 2


def test_a_result_page_offers_the_right_classes_and_remembers_the_answer(
    client, user, colours_live
):
    prediction = classify_colour(user, "green")
    client.force_login(user)
    detail = reverse("classification:prediction_detail", args=[prediction.pk])
    page = client.get(detail).content.decode()
    assert 'data-testid="feedback-form"' in page and 'name="consent"' in page
    options = re.findall(r'<option value="(\w+)">', page)
    assert options == ["blue", "red"]  # every class but the answer, by name
    answer = client.post(
        reverse("evaluation:feedback", args=[prediction.pk]),
        {"correct": "blue", "next": detail},
        follow=True,
    )
    assert "Tick the box to share this photo" in answer.content.decode()
    answer = client.post(
        reverse("evaluation:feedback", args=[prediction.pk]),
        {"correct": "blue", "consent": "on", "next": detail + "#feedback"},
        follow=True,
    )
    page = answer.content.decode()
    assert "Thank you: your correction was recorded." in page
    assert "You said the right class is “blue”" in page and "feedback-form" not in page
    # A result whose photo was not kept says how to send a correction instead.
    unkept = classify_colour(user, "red", store=False)
    page = client.get(
        reverse("classification:prediction_detail", args=[unkept.pk])
    ).content.decode()
    assert "Corrections need the photo" in page and "feedback-form" not in page


def test_on_your_own_classifier_a_correction_needs_no_consent(client, trained, user):
    from classification import services as classification
    from tests.training.examples import TEXTURES, crops

    classifier, run = trained
    version = classification.model_version_resolve(user=user, model=run.model_version_id)
    (prediction,) = classification.classify_uploads(
        user=user,
        uploads=[classification.Upload("x.jpg", crops(TEXTURES["grava"], 1, seed=9)[0])],
        version=version,
    )
    client.force_login(user)
    detail = reverse("classification:prediction_detail", args=[prediction.pk])
    page = client.get(detail).content.decode()
    assert 'name="consent"' not in page and "becomes an example of that class" in page
    answered = prediction.label_set.labels.get(key=prediction.top_key).name
    wrong = next(name for name in TEXTURES if name != answered)
    examples = classifier.classes.get(name=wrong).examples.count()
    client.post(reverse("evaluation:feedback", args=[prediction.pk]), {"correct": wrong})
    assert classifier.classes.get(name=wrong).examples.count() == examples + 1


def test_opting_out_in_the_profile_keeps_my_photos_out_of_replays(
    client, user, colours_live, django_capture_on_commit_callbacks
):
    from evaluation.services import replay_start

    _good, worse = colours_live
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert re.search(r'name="share_for_model_tests"[^>]*checked', page)  # on by default
    client.post(reverse("accounts:profile"), {"name": "Ada"})  # the box left unticked
    user.refresh_from_db()
    assert user.share_for_model_tests is False
    assert client.get(reverse("api:me")).json()["share_for_model_tests"] is False
    classify_colour(user, "green")
    classify_colour(UserFactory(), "green")  # someone who did not opt out
    with django_capture_on_commit_callbacks(execute=True):
        replay = replay_start(candidate=worse, user=UserFactory(is_staff=True))
    replay.refresh_from_db()
    assert (replay.report["replayed"], replay.report["changed"]) == (1, 1)
