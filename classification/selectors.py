import unicodedata

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from classification.models import BatchItem, BatchJob, Prediction
from models_registry.models import LabelSet, ModelVersion
from models_registry.selectors import label_names_for_set


def prediction_list_for_user(*, user: User) -> QuerySet[Prediction]:
    """A user's classifications, newest first (classification.filters narrows it)."""
    return (
        Prediction.objects.filter(user=user)
        # model_version__label_set: a grouping's name is its label set's, translated.
        .select_related("image", "model_version__label_set", "label_set")
        .order_by("-created_at", "-id")
    )


def _folded(text: str) -> str:
    """Lower case without accents: "Ratón" and "raton" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def prediction_list_with_top_class(
    *, predictions: QuerySet[Prediction], text: str, language: str
) -> QuerySet[Prediction]:
    """Those whose top class's key or name in ``language`` contains ``text``.
    Names come from the same place the pages show them (label_names_for_set),
    so what one reads is what one finds."""
    needle = _folded(text.strip())
    if not needle:
        return predictions
    matches = Q(pk__in=[])
    label_sets = LabelSet.objects.filter(pk__in=predictions.values("label_set_id"))
    for label_set in label_sets:
        keys = [
            key
            for key, name in label_names_for_set(label_set=label_set, language=language)
            if needle in _folded(key) or needle in _folded(name)
        ]
        if keys:
            matches |= Q(label_set_id=label_set.pk, top_key__in=keys)
    return predictions.filter(matches)


def prediction_get_for_user(*, user: User, prediction_id: int) -> Prediction | None:
    return prediction_list_for_user(user=user).filter(pk=prediction_id).first()


def prediction_classes(
    *, prediction: Prediction, language: str, top_k: int = 5, min_confidence: float = 0.0
) -> list[dict]:
    """Stored results with names in ``language``."""
    names = label_names_for_set(label_set=prediction.label_set, language=language)
    return [
        {"key": r["key"], "name": names[r["index"]][1], "probability": r["probability"]}
        for r in prediction.results[:top_k]
        if r["probability"] >= min_confidence
    ]


def model_versions_used_by(*, user: User) -> QuerySet[ModelVersion]:
    ids = Prediction.objects.filter(user=user).values("model_version_id").distinct()
    return (
        ModelVersion.objects.filter(pk__in=ids)
        .select_related("label_set")
        .order_by("name", "-version")
    )


def batch_job_list_for_user(*, user: User) -> QuerySet[BatchJob]:
    return (
        BatchJob.objects.filter(user=user)
        .select_related("model_version__label_set")
        .order_by("-created_at")
    )


def batch_job_get_for_user(*, user: User, job_id: int) -> BatchJob | None:
    return batch_job_list_for_user(user=user).filter(pk=job_id).first()


def batch_items_for_job(*, job: BatchJob) -> QuerySet[BatchItem]:
    return (
        BatchItem.objects.filter(job=job)
        .select_related("prediction__label_set", "prediction__image")
        .order_by("index")
    )


def classifier_choices(*, user: User) -> list:
    """What a user may classify with: the aliases, every shared version, then the
    user's own classifiers (grouped, for the select's optgroups)."""
    from models_registry.selectors import model_alias_list, model_version_list

    choices = [
        (alias.name, f"{alias.display_name} ({alias.version})") for alias in model_alias_list()
    ]
    own = []
    for version in model_version_list(user=user):
        (own if version.owner_id else choices).append((str(version.pk), str(version)))
    if own:
        choices.append((_("My classifiers"), own))
    return choices
