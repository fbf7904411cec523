"""Feedback: "wrong? the right class is ..." on any classification.

On the user's own classifier it becomes a training example of the right class
at once (the classification's kept photo). On a shared model it goes to the
staff inbox, only when the user agrees to share the photo; staff turn inbox
items into an evaluation set, or dismiss them. Disagreement per class and
version is counted for staff."""

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from classification.models import Prediction
from core.exceptions import ApplicationError
from evaluation.models import EvaluationPhoto, EvaluationSet, Feedback
from evaluation.services.sets import next_version
from models_registry.models import ModelVersion


def _right_key(version: ModelVersion, correct: str) -> str:
    """The class the user picked (its key, or its name in any language)."""
    wanted = " ".join(str(correct).split()).casefold()
    for label in version.label_set.labels.all():
        names = (label.key, label.name, *label.translations.values())
        if wanted in {" ".join(str(n).split()).casefold() for n in names}:
            return label.key
    raise ApplicationError(
        _("This classifier has no class called “%(name)s”.") % {"name": correct},
        code="unknown_class",
    )


def _add_as_example(prediction: Prediction, key: str) -> None:
    """The user's own classifier: the photo becomes an example of the class."""
    from training import services as training
    from training.models import Classifier

    classifier = Classifier.objects.filter(
        owner=prediction.user, runs__model_version=prediction.model_version
    ).first()
    label = prediction.model_version.label_set.labels.get(key=key)
    if classifier is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    from core.uploads import Upload

    with prediction.image.file.open("rb") as handle:
        upload = Upload(prediction.original_name or "photo.jpg", handle.read())
    training.examples_add(classifier=classifier, uploads_by_class={label.name: [upload]})


@transaction.atomic
def feedback_give(
    *, user: User, prediction_id: int, correct: str, consent: bool = False
) -> Feedback:
    prediction = (
        Prediction.objects.select_related("model_version__label_set", "image")
        .filter(pk=prediction_id, user=user)
        .first()
    )
    if prediction is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    version = prediction.model_version
    key = _right_key(version, correct)
    if key == prediction.top_key:
        raise ApplicationError(
            _("That is the answer it gave; pick the class it should have answered."),
            code="same_answer",
        )
    if Feedback.objects.filter(prediction=prediction).exists():
        raise ApplicationError(
            _("You have already corrected this classification."), code="already_given", status=409
        )
    if version.owner_id == user.pk:
        if prediction.image is None:
            raise ApplicationError(
                _("The photo was not kept, so it cannot become an example."), code="no_image"
            )
        _add_as_example(prediction, key)
        status = Feedback.Status.EXAMPLE
    else:
        if not consent:
            raise ApplicationError(
                _("Tick the box to share this photo with the administrators, or nothing is sent."),
                code="consent_required",
            )
        if prediction.image is None:
            raise ApplicationError(
                _("The photo was not kept, so it cannot be shared."), code="no_image"
            )
        status = Feedback.Status.INBOX
    return Feedback.objects.create(
        prediction=prediction,
        user=user,
        version=version,
        predicted_key=prediction.top_key,
        correct_key=key,
        consent=consent,
        status=status,
    )


def feedback_to_evaluation_set(*, feedback_ids: list[int], name: str, user: User) -> EvaluationSet:
    """Staff: inbox items (shared with consent) become a ready evaluation set of
    their photos, labelled with the class the users picked."""
    items = list(
        Feedback.objects.filter(
            pk__in=feedback_ids, status=Feedback.Status.INBOX, consent=True
        ).select_related("prediction__image", "version__label_set")
    )
    if not items:
        raise ApplicationError(_("Choose inbox items shared with consent."), code="nothing_chosen")
    label_sets = {item.version.label_set_id for item in items}
    if len(label_sets) != 1:
        raise ApplicationError(
            _("Choose items of models that share one label set."), code="mixed_label_sets"
        )
    by_photo = {item.prediction.image.sha256: item for item in items}  # each photo once
    with transaction.atomic():
        evaluation_set = EvaluationSet.objects.create(
            name=name,
            version=next_version(name=name, owner=None),
            label_set=items[0].version.label_set,
            user=user,
            language=translation.get_language() or "en",
            status=EvaluationSet.Status.SUCCEEDED,
            total=len(by_photo),
            position=len(by_photo),
            added=len(by_photo),
        )
        for item in by_photo.values():
            image = item.prediction.image
            with image.file.open("rb") as handle:
                photo = EvaluationPhoto(
                    evaluation_set=evaluation_set,
                    original_name=item.prediction.original_name,
                    label_key=item.correct_key,
                    sha256=image.sha256,
                )
                photo.file.save("photo.jpg", ContentFile(handle.read()), save=False)
                photo.save()
        Feedback.objects.filter(pk__in=[item.pk for item in items]).update(
            status=Feedback.Status.USED
        )
    return evaluation_set


def feedback_dismiss(*, feedback_ids: list[int]) -> int:
    """Staff: inbox items set aside (kept for the disagreement counts)."""
    return Feedback.objects.filter(pk__in=feedback_ids, status=Feedback.Status.INBOX).update(
        status=Feedback.Status.DISMISSED
    )
