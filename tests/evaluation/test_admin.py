"""The administrator's workflow in the admin: upload a shared evaluation set,
measure two versions, compare them, replay recent answers through the worse
one and decide; the feedback inbox becomes an evaluation set or is dismissed,
and the disagreement table counts the corrections."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluation.models import Evaluation, EvaluationSet, Feedback, Replay
from evaluation.services import feedback_give
from models_registry.models import AliasChange, ModelAlias
from tests.accounts.factories import UserFactory
from tests.evaluation.helpers import classify_colour, colour_photos, zip_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _changelist_action(client, model: str, action: str, ids: list[int], follow=False):
    return client.post(
        reverse(f"admin:evaluation_{model}_changelist"),
        {"action": action, "_selected_action": ids},
        follow=follow,
    )


def test_set_evaluations_comparison_and_the_version_page(
    admin_client, colours_live, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    good, worse = colours_live
    archive = SimpleUploadedFile("colours.zip", zip_of(colour_photos(3)).getvalue())
    with capture(execute=True):
        answer = admin_client.post(
            reverse("admin:evaluation_evaluationset_add"),
            {"name": "colours", "label_set": good.label_set_id, "archive_upload": archive},
        )
    assert answer.status_code == 302, answer.content.decode()[-1500:]
    evaluation_set = EvaluationSet.objects.get(name="colours")
    assert (evaluation_set.status, evaluation_set.added) == ("succeeded", 9)
    page = admin_client.get(
        reverse("admin:evaluation_evaluationset_change", args=[evaluation_set.pk])
    ).content.decode()
    assert "<td>green</td><td>3</td>" in page

    # The version's page links to measuring it; the evaluation form starts from it.
    version_page = admin_client.get(
        reverse("admin:models_registry_modelversion_change", args=[worse.pk])
    ).content.decode()
    add_url = f"{reverse('admin:evaluation_evaluation_add')}?version={worse.pk}"
    assert add_url in version_page
    for version in (good, worse):
        with capture(execute=True):
            admin_client.post(
                reverse("admin:evaluation_evaluation_add"),
                {"version": version.pk, "evaluation_set": evaluation_set.pk},
            )
    first, second = Evaluation.objects.order_by("id")
    assert (first.status, second.status) == ("succeeded", "succeeded")
    page = admin_client.get(
        reverse("admin:evaluation_evaluation_change", args=[second.pk])
    ).content.decode()
    assert "66.7 %" in page and reverse("evaluation:report", args=[second.pk]) in page
    version_page = admin_client.get(
        reverse("admin:models_registry_modelversion_change", args=[worse.pk])
    ).content.decode()
    assert "66.7 %" in version_page

    answer = _changelist_action(admin_client, "evaluation", "compare", [first.pk, second.pk])
    assert answer["Location"] == (
        f"{reverse('evaluation:compare')}?before={first.pk}&after={second.pk}"
    )
    assert "3 photos answered differently" in admin_client.get(answer["Location"]).content.decode()
    answer = _changelist_action(admin_client, "evaluation", "compare", [first.pk], follow=True)
    assert "Select exactly two evaluations." in answer.content.decode()


def test_a_replay_is_read_then_approved_and_the_alias_records_it(
    admin_client, colours_live, django_capture_on_commit_callbacks
):
    _good, worse = colours_live
    user = UserFactory()
    for colour in ("green", "green", "red"):
        classify_colour(user, colour)
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            reverse("admin:evaluation_replay_add"),
            {"alias": "default", "candidate": worse.pk, "limit": 50},
        )
    assert answer.status_code == 302, answer.content.decode()[-1500:]
    replay = Replay.objects.get()
    page = admin_client.get(
        reverse("admin:evaluation_replay_change", args=[replay.pk])
    ).content.decode()
    assert "2 of 3" in page  # both green photos would become blue
    assert re.search(r"<td>green</td><td>blue</td><td>2</td>", page)
    assert "Approve and activate" in page

    decide = reverse("admin:evaluation_replay_decide", args=[replay.pk])
    assert admin_client.get(decide).status_code == 405
    page = admin_client.post(decide, {"approve": "1"}, follow=True).content.decode()
    assert "now answers with colour-means v2" in page and "Approve and activate" not in page
    assert ModelAlias.objects.get(name="default").version == worse
    change = AliasChange.objects.latest("id")
    assert change.based_on["replay"] == replay.pk and change.based_on["changed"] == 2
    alias_page = admin_client.get(
        reverse("admin:models_registry_modelalias_change", args=[change.alias_id])
    ).content.decode()
    assert "replay: 2 of 3 answers changed" in alias_page
    page = admin_client.post(decide, {"approve": "0"}, follow=True).content.decode()
    assert "This replay was decided already." in page

    # Someone without staff rights cannot decide.
    admin_client.force_login(UserFactory())
    assert admin_client.post(decide, {"approve": "0"}).status_code == 302  # to the login
    assert Replay.objects.get().decision == "approved"


def test_the_inbox_becomes_a_set_or_is_dismissed_and_disagreement_counts(
    admin_client, colours_live
):
    _good, _worse = colours_live
    user = UserFactory()
    shared = [
        feedback_give(
            user=user, prediction_id=classify_colour(user, c).pk, correct="blue", consent=True
        )
        for c in ("green", "red", "red")
    ]
    inbox = reverse("admin:evaluation_feedback_changelist")
    page = admin_client.get(inbox).content.decode()
    assert page.count(reverse("admin:evaluation_feedback_photo", args=[shared[0].pk])) == 1
    photo = admin_client.get(reverse("admin:evaluation_feedback_photo", args=[shared[0].pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"

    answer = _changelist_action(
        admin_client, "feedback", "make_evaluation_set", [f.pk for f in shared[:2]]
    )
    form_page = admin_client.get(answer["Location"]).content.decode()
    assert "2 corrections become labelled photos" in form_page
    answer = admin_client.post(answer["Location"], {"name": "from users"})
    made = EvaluationSet.objects.get(name="from users")
    assert answer["Location"] == reverse("admin:evaluation_evaluationset_change", args=[made.pk])
    assert sorted(made.photos.values_list("label_key", flat=True)) == ["blue", "blue"]
    _changelist_action(admin_client, "feedback", "dismiss", [shared[2].pk])
    statuses = dict(Feedback.objects.values_list("pk", "status"))
    assert [statuses[f.pk] for f in shared] == ["used", "used", "dismissed"]

    page = admin_client.get(reverse("admin:evaluation_feedback_disagreement")).content.decode()
    assert "<td>red</td><td>blue</td><td>2</td>" in page
    assert "<td>green</td><td>blue</td><td>1</td>" in page
