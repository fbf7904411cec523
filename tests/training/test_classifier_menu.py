"""The classify and batch pages' classifier menu: one entry per model. The
default model once (as the alias that follows it), each of the user's
classifiers once (its version in use, switched on the classifier's page)."""

import pytest

from classification.forms import ClassifierChoiceForm
from models_registry.models import ModelVersion
from training import services
from training.models import TrainingRun

pytestmark = pytest.mark.django_db


def _entries(form) -> list[tuple[str, str]]:
    flat = []
    for value, label in form.fields["model"].choices:
        if isinstance(label, list | tuple):
            flat += [(v, str(group_label)) for v, group_label in label]
        else:
            flat.append((value, str(label)))
    return flat


def _second_version(run) -> ModelVersion:
    """Another training of the same classifier (its run and files reused)."""
    version = ModelVersion.objects.get(pk=run.model_version_id)
    version.pk, version.version = None, 2
    version.save()
    again = TrainingRun.objects.get(pk=run.pk)
    again.pk, again.number, again.model_version = None, 2, version
    again.save()
    return version


def test_one_entry_per_classifier_and_the_default_once(trained, user, imagenet_model):
    classifier, run = trained
    older = run.model_version_id
    newer = _second_version(run)
    services.classifier_use_version(classifier=classifier, version_id=newer.pk)

    entries = _entries(ClassifierChoiceForm(user=user))
    values = [value for value, _label in entries]
    assert values.count(str(newer.pk)) == 1 and str(older) not in values
    assert ("default" in values) and str(imagenet_model.pk) not in values
    assert [label for value, label in entries if value == str(newer.pk)] == [classifier.name]

    # Switching versions on the classifier's page changes what the entry runs.
    services.classifier_use_version(classifier=classifier, version_id=older)
    values = [value for value, _label in _entries(ClassifierChoiceForm(user=user))]
    assert str(older) in values and str(newer.pk) not in values


def test_a_version_asked_for_by_a_link_or_a_form_stays_choosable(trained, user):
    classifier, run = trained
    newer = _second_version(run)
    services.classifier_use_version(classifier=classifier, version_id=newer.pk)
    older = str(run.model_version_id)

    linked = ClassifierChoiceForm(user=user, initial_model=older)  # ?model=<older>
    assert older in [value for value, _label in _entries(linked)]
    posted = ClassifierChoiceForm({"model": older, "store": "on"}, user=user)
    assert posted.is_valid(), posted.errors
    assert ClassifierChoiceForm({"model": "999999"}, user=user).is_valid() is False


def test_nobody_else_sees_a_users_classifier(trained, other_user):
    classifier, _run = trained
    labels = [label for _value, label in _entries(ClassifierChoiceForm(user=other_user))]
    assert classifier.name not in labels
