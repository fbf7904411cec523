"""Classifiers and their classes: create, rename, delete; the version in use
and its "none of these" threshold."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from models_registry import services as registry
from models_registry.models import ModelVersion
from training.models import Classifier, ClassifierClass, TrainingRun
from training.selectors import active_run

logger = logging.getLogger(__name__)

MAX_NAME = 80
MAX_CLASS_NAME = 100

# Classifiers and classes
# ------------------------------------------------------------------------------


def _clean_class_names(names: list[str]) -> list[str]:
    cleaned, seen = [], set()
    for raw in names:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if len(name) > MAX_CLASS_NAME:
            raise ApplicationError(
                _("A class name can be at most %(max)d characters.") % {"max": MAX_CLASS_NAME},
                code="class_name_too_long",
            )
        if name.casefold() in seen:
            raise ApplicationError(
                _("The class “%(name)s” is listed twice.") % {"name": name},
                code="duplicate_class",
            )
        seen.add(name.casefold())
        cleaned.append(name)
    return cleaned


def check_class_count(count: int) -> None:
    if count < settings.TRAINING_MIN_CLASSES:
        raise ApplicationError(
            _("A classifier needs at least %(min)d classes.")
            % {"min": settings.TRAINING_MIN_CLASSES},
            code="too_few_classes",
        )
    if count > settings.TRAINING_MAX_CLASSES:
        raise ApplicationError(
            _("A classifier can have at most %(max)d classes.")
            % {"max": settings.TRAINING_MAX_CLASSES},
            code="too_many_classes",
        )


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise ApplicationError(_("Give the classifier a name."), code="name_required")
    if len(name) > MAX_NAME:
        raise ApplicationError(
            _("The name can be at most %(max)d characters.") % {"max": MAX_NAME},
            code="name_too_long",
        )
    return name


@transaction.atomic
def classifier_create(*, user: User, name: str, class_names: list[str]) -> Classifier:
    name = _clean_name(name)
    names = _clean_class_names(class_names)
    check_class_count(len(names))
    if user.classifiers.count() >= settings.TRAINING_MAX_CLASSIFIERS_PER_USER:
        raise ApplicationError(
            _("You can have at most %(max)d classifiers; delete one first.")
            % {"max": settings.TRAINING_MAX_CLASSIFIERS_PER_USER},
            code="too_many_classifiers",
            status=409,
        )
    if user.classifiers.filter(name=name).exists():
        raise ApplicationError(
            _("You already have a classifier called “%(name)s”.") % {"name": name},
            code="duplicate_name",
            status=409,
        )
    classifier = Classifier.objects.create(owner=user, name=name)
    ClassifierClass.objects.bulk_create(
        ClassifierClass(classifier=classifier, name=class_name) for class_name in names
    )
    return classifier


@transaction.atomic
def classifier_rename(*, classifier: Classifier, name: str) -> Classifier:
    name = _clean_name(name)
    if classifier.owner.classifiers.filter(name=name).exclude(pk=classifier.pk).exists():
        raise ApplicationError(
            _("You already have a classifier called “%(name)s”.") % {"name": name},
            code="duplicate_name",
            status=409,
        )
    classifier.name = name
    classifier.save(update_fields=["name", "updated_at"])
    return classifier


@transaction.atomic
def class_add(*, classifier: Classifier, name: str) -> ClassifierClass:
    names = _clean_class_names([name])
    if not names:
        raise ApplicationError(_("Give the class a name."), code="name_required")
    if classifier.classes.count() + 1 > settings.TRAINING_MAX_CLASSES:
        check_class_count(classifier.classes.count() + 1)
    if classifier.classes.filter(name__iexact=names[0]).exists():
        raise ApplicationError(
            _("The class “%(name)s” is listed twice.") % {"name": names[0]},
            code="duplicate_class",
            status=409,
        )
    return ClassifierClass.objects.create(classifier=classifier, name=names[0])


def class_delete(*, classifier: Classifier, class_id: int) -> None:
    cls = classifier.classes.filter(pk=class_id).first()
    if cls is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    if active_run(classifier=classifier) is not None:
        raise ApplicationError(
            _("Wait for the training to finish before changing the classes."),
            code="training_running",
            status=409,
        )
    with transaction.atomic():
        cls.delete()  # the examples' files go with them (signal, after commit)


def classifier_delete(*, classifier: Classifier) -> None:
    """The classifier, its examples, every version it trained (files too) and
    the classifications made with them."""
    with transaction.atomic():
        versions = list(ModelVersion.objects.filter(training_run__classifier=classifier))
        classifier.delete()
        for version in versions:
            registry.owned_model_version_delete(version=version)


def classifier_use_version(*, classifier: Classifier, version_id: int) -> Classifier:
    run = classifier.runs.filter(
        model_version_id=version_id, status=TrainingRun.Status.SUCCEEDED
    ).first()
    if run is None:
        raise ApplicationError(
            _("This classifier has no such version."), code="unknown_version", status=404
        )
    classifier.active_version_id = version_id
    classifier.save(update_fields=["active_version", "updated_at"])
    return classifier


def classifier_set_threshold(*, classifier: Classifier, threshold: float | None) -> None:
    """Below ``threshold`` the answer is "none of these" (None: always answer)."""
    if threshold is not None and not 0.0 <= threshold < 1.0:
        raise ApplicationError(_("The threshold must be between 0 and 1."), code="bad_threshold")
    if classifier.active_version_id is None:
        raise ApplicationError(_("Train the classifier first."), code="not_trained", status=409)
    ModelVersion.objects.filter(pk=classifier.active_version_id).update(
        confidence_threshold=threshold or None
    )


def classifier_set_distance_threshold(*, classifier: Classifier, threshold: float | None) -> None:
    """Beyond ``threshold`` (a cosine distance to the examples, 0 to 2) the answer
    is "none of these"; None: never for that reason."""
    if threshold is not None and not 0.0 <= threshold <= 2.0:
        raise ApplicationError(
            _("The distance must be between 0 and 2."), code="bad_distance_threshold"
        )
    if classifier.active_version_id is None:
        raise ApplicationError(_("Train the classifier first."), code="not_trained", status=409)
    ModelVersion.objects.filter(pk=classifier.active_version_id).update(
        distance_threshold=threshold
    )
