import threading
import time

import numpy as np
from django.conf import settings
from django.db.models import Q, QuerySet

from models_registry.models import AliasChange, Label, LabelSet, ModelAlias, ModelVersion


def label_set_list() -> QuerySet[LabelSet]:
    """Shared label sets (a user's own classifier's classes are that user's)."""
    return LabelSet.objects.filter(owner__isnull=True).order_by("name", "-version")


def label_list_for_set(*, label_set: LabelSet) -> QuerySet[Label]:
    return Label.objects.filter(label_set=label_set).order_by("index")


_label_names: dict[tuple, tuple[tuple[str, str], ...]] = {}
_label_names_lock = threading.Lock()


def label_names_for_set(*, label_set: LabelSet, language: str) -> tuple[tuple[str, str], ...]:
    """``(key, name in language)`` per index. Label sets never change once made,
    so the answer is kept per process (keyed by id and creation time)."""
    key = (label_set.pk, label_set.created_at.isoformat(), language.split("-")[0])
    with _label_names_lock:
        names = _label_names.get(key)
    if names is None:
        labels = Label.objects.filter(label_set_id=label_set.pk).order_by("index")
        names = tuple((label.key, label.name_in(key[2])) for label in labels)
        if names:  # an empty answer means "not visible yet": never remember it
            with _label_names_lock:
                if len(_label_names) > 256:
                    _label_names.clear()
                _label_names[key] = names
    return names


_groupings: dict[tuple, np.ndarray] = {}


def grouping_matrix(*, label_set: LabelSet) -> np.ndarray:
    """(classes of the grouped set, groups) 0/1 matrix: base probabilities times
    it give each group's probability. Kept per process, like label names."""
    key = (label_set.pk, label_set.created_at.isoformat())
    with _label_names_lock:
        matrix = _groupings.get(key)
    if matrix is not None:
        return matrix
    base_index = dict(
        Label.objects.filter(label_set_id=label_set.grouping_of_id).values_list("pk", "index")
    )
    groups = list(Label.objects.filter(label_set_id=label_set.pk).order_by("index"))
    members = dict.fromkeys((g.pk for g in groups), ())
    for group_id, member_id in Label.members.through.objects.filter(
        from_label__label_set_id=label_set.pk
    ).values_list("from_label_id", "to_label_id"):
        members[group_id] += (base_index[member_id],)
    matrix = np.zeros((len(base_index), len(groups)), dtype=np.float32)
    for column, group in enumerate(groups):
        matrix[list(members[group.pk]), column] = 1.0
    claimed = matrix.sum(axis=1) > 0
    for column, group in enumerate(groups):
        if group.catch_all:
            matrix[~claimed, column] = 1.0
    with _label_names_lock:
        _groupings[key] = matrix
    return matrix


def model_version_list(*, include_unready: bool = False, user=None) -> QuerySet[ModelVersion]:
    """Ready versions anyone may use, plus ``user``'s own classifiers. A user's
    classifiers are private: no one else sees them here, staff included (the
    Django admin lists them for moderation)."""
    versions = ModelVersion.objects.select_related("label_set").order_by("name", "-version")
    if not include_unready:
        versions = versions.filter(status=ModelVersion.Status.READY)
    return versions.filter(Q(owner__isnull=True) | Q(owner_id=getattr(user, "pk", None)))


def model_alias_list() -> QuerySet[ModelAlias]:
    return ModelAlias.objects.select_related("version__label_set").order_by("name")


def model_version_for_alias(*, alias: str) -> ModelVersion | None:
    found = model_alias_list().filter(name=alias).first()
    return found.version if found else None


_alias_cache: dict[str, tuple[float, ModelVersion | None]] = {}
_alias_cache_lock = threading.Lock()


def model_version_for_alias_cached(*, alias: str) -> ModelVersion | None:
    """Like model_version_for_alias, remembered for ALIAS_CACHE_SECONDS in this
    process: the hot path of every classification skips a query, and a newly
    activated version is still picked up within seconds, without a restart."""
    now = time.monotonic()
    with _alias_cache_lock:
        hit = _alias_cache.get(alias)
    if hit is not None and now - hit[0] < settings.ALIAS_CACHE_SECONDS:
        return hit[1]
    version = model_version_for_alias(alias=alias)
    with _alias_cache_lock:
        _alias_cache[alias] = (now, version)
    return version


def alias_cache_clear() -> None:
    with _alias_cache_lock:
        _alias_cache.clear()


def alias_history(*, alias: ModelAlias) -> QuerySet[AliasChange]:
    return AliasChange.objects.filter(alias=alias).select_related(
        "from_version", "to_version", "changed_by"
    )


def training_backbone() -> ModelVersion | None:
    """The network custom classifiers are trained on: the newest ready
    pretrained version (it carries the ImageNet features the heads build on)."""
    return (
        ModelVersion.objects.filter(
            source=ModelVersion.Source.PRETRAINED,
            status=ModelVersion.Status.READY,
            owner__isnull=True,
        )
        .order_by("-created_at", "-id")
        .first()
    )
