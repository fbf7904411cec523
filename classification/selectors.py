from datetime import date

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from classification.models import BatchItem, BatchJob, Prediction
from models_registry.models import ModelVersion
from models_registry.selectors import label_names_for_set


def prediction_list_for_user(
    *,
    user: User,
    model_version_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Prediction]:
    predictions = Prediction.objects.filter(user=user).select_related(
        "image", "model_version", "label_set"
    )
    if model_version_id:
        predictions = predictions.filter(model_version_id=model_version_id)
    if since:
        predictions = predictions.filter(created_at__date__gte=since)
    if until:
        predictions = predictions.filter(created_at__date__lte=until)
    return predictions.order_by("-created_at", "-id")


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
    return ModelVersion.objects.filter(pk__in=ids).order_by("name", "-version")


def batch_job_list_for_user(*, user: User) -> QuerySet[BatchJob]:
    return (
        BatchJob.objects.filter(user=user).select_related("model_version").order_by("-created_at")
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

    choices = [(alias.name, f"{alias.name} ({alias.version})") for alias in model_alias_list()]
    own = []
    for version in model_version_list(user=user):
        (own if version.owner_id else choices).append((str(version.pk), str(version)))
    if own:
        choices.append((_("My classifiers"), own))
    return choices
