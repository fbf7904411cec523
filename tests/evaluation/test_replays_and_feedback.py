"""Replays before activation and users' feedback, on real models and photos."""

import pytest

from classification import services as classification
from classification.models import Prediction
from core.exceptions import ApplicationError
from evaluation import selectors, services
from evaluation.models import Feedback, Replay
from models_registry import services as registry
from models_registry.models import AliasChange, ModelAlias
from tests.accounts.factories import UserFactory
from tests.evaluation.helpers import classify_colour

pytestmark = pytest.mark.django_db


def test_a_replay_shows_what_would_change_and_approving_moves_the_alias(
    colours_live, django_capture_on_commit_callbacks
):
    good, worse = colours_live
    staff, alice, bob = UserFactory(is_staff=True), UserFactory(), UserFactory()
    bob.share_for_model_tests = False
    bob.save()
    for colour in ("red", "green", "green", "blue"):
        classify_colour(alice, colour)
    classify_colour(alice, "green", store=False)  # no photo kept: not replayable
    classify_colour(bob, "green")  # opted out
    with django_capture_on_commit_callbacks(execute=True):
        replay = services.replay_start(candidate=worse, user=staff, alias="default")
    replay.refresh_from_db()
    assert replay.status == "succeeded", replay.error
    assert (replay.report["replayed"], replay.report["changed"]) == (4, 2)
    assert replay.report["transitions"] == [["green", "blue", 2]]
    assert all("image" not in change for change in replay.report["changes"])  # answers only
    assert ModelAlias.objects.get(name="default").version == good  # nothing moved yet

    services.replay_decide(replay=replay, user=staff, approve=True)
    assert ModelAlias.objects.get(name="default").version == worse
    change = AliasChange.objects.order_by("-id").first()
    assert change.based_on == {"replay": replay.pk, "replayed": 4, "changed": 2}
    with pytest.raises(ApplicationError) as error:
        services.replay_decide(replay=replay, user=staff, approve=False)
    assert error.value.code == "already_decided"


def test_a_replay_can_be_cancelled_and_is_for_staff_only(colours_live):
    good, worse = colours_live
    with pytest.raises(ApplicationError) as error:
        services.replay_start(candidate=worse, user=UserFactory(), alias="default")
    assert error.value.status == 404
    replay = services.replay_start(candidate=worse, user=UserFactory(is_staff=True))
    services.replay_decide(replay=replay, user=replay.requested_by, approve=False)
    replay.refresh_from_db()
    assert replay.decision == Replay.Decision.CANCELLED
    assert ModelAlias.objects.get(name="default").version == good


def test_feedback_on_a_shared_model_needs_consent_and_feeds_an_evaluation_set(colours_live):
    _good, worse = colours_live
    registry.model_alias_point(alias="default", version=worse)
    alice, staff = UserFactory(), UserFactory(is_staff=True)
    wrong = classify_colour(alice, "green")
    assert wrong.top_key == "blue"
    with pytest.raises(ApplicationError) as error:
        services.feedback_give(user=alice, prediction_id=wrong.pk, correct="green")
    assert error.value.code == "consent_required" and not Feedback.objects.exists()
    with pytest.raises(ApplicationError) as error:  # someone else's classification
        services.feedback_give(
            user=UserFactory(), prediction_id=wrong.pk, correct="green", consent=True
        )
    assert error.value.status == 404
    given = services.feedback_give(
        user=alice, prediction_id=wrong.pk, correct="Green-es", consent=True
    )
    assert (given.status, given.predicted_key, given.correct_key) == ("inbox", "blue", "green")
    rows = list(selectors.disagreement(version=worse))
    assert rows == [
        {"version": worse.pk, "predicted_key": "blue", "correct_key": "green", "count": 1}
    ]
    evaluation_set = services.feedback_to_evaluation_set(
        feedback_ids=[given.pk], name="from users", user=staff
    )
    assert evaluation_set.is_ready and evaluation_set.photos.get().label_key == "green"
    given.refresh_from_db()
    assert given.status == "used"


def test_feedback_on_your_own_classifier_becomes_an_example(trained, user):
    from tests.training.examples import crops
    from training.models import Example

    _classifier, run = trained
    brick = crops("brick.png", 1, seed=77)[0]
    (prediction,) = classification.classify_uploads(
        user=user, uploads=[classification.Upload("b.jpg", brick)], version=run.model_version
    )
    keys = dict(run.model_version.label_set.labels.values_list("name", "key"))
    # Whatever it answered, say it answered "grava" and should have said "ladrillo".
    Prediction.objects.filter(pk=prediction.pk).update(top_key=keys["grava"])
    before = Example.objects.filter(classifier_class__name="grava").count()
    given = services.feedback_give(user=user, prediction_id=prediction.pk, correct="ladrillo")
    assert given.status == "example" and not given.consent  # nothing goes to staff
    assert Example.objects.filter(classifier_class__name="ladrillo").count() == 9
    assert Example.objects.filter(classifier_class__name="grava").count() == before
    with pytest.raises(ApplicationError) as error:
        services.feedback_give(user=user, prediction_id=prediction.pk, correct="hierba")
    assert error.value.code == "already_given"
