import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Q, QuerySet

from models_registry import hierarchy
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
    versions = ModelVersion.objects.select_related("label_set", "base_version").order_by(
        "name", "-version"
    )
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


@dataclass(frozen=True)
class BroaderClasses:
    """The broader classes above a label set's classes, smallest first: WordNet
    synsets (for ImageNet's keys) and the groups of administrators' groupings.
    ``matrix`` is (classes, broader) 0/1: probabilities times it give each
    broader class's probability."""

    keys: tuple[str, ...]
    names: tuple[str, ...]
    translations: tuple[dict, ...]
    sources: tuple[str, ...]  # "wordnet", or "grouping:<label set id>"
    sizes: np.ndarray
    matrix: np.ndarray

    def name_in(self, column: int, language: str) -> str:
        return self.translations[column].get(language.split("-")[0]) or self.names[column]


_broader: dict[tuple, BroaderClasses | None] = {}
# A label set's groupings, looked up at most every GROUPINGS_TTL seconds per
# process (a grouping made here is seen at once: ``broader_classes_forget``).
GROUPINGS_TTL = 30.0
_groupings_of: dict[int, tuple[float, tuple]] = {}


def broader_classes_forget() -> None:
    """A grouping was made: look the groupings up again on the next answer."""
    with _label_names_lock:
        _groupings_of.clear()


def _latest_groupings(label_set_id: int) -> tuple:
    """The ids of the newest version of each shared grouping of a label set."""
    now = time.monotonic()
    with _label_names_lock:
        seen = _groupings_of.get(label_set_id)
    if seen is not None and now - seen[0] < GROUPINGS_TTL:
        return seen[1]
    groupings = (
        LabelSet.objects.filter(grouping_of_id=label_set_id, owner__isnull=True)
        .order_by("name", "-version")
        .values_list("pk", "name")
    )
    # Newest first per name: the last one written for a name is its newest.
    latest = tuple(sorted({name: pk for pk, name in reversed(list(groupings))}.values()))
    with _label_names_lock:
        _groupings_of[label_set_id] = (now, latest)
    return latest


def broader_classes(*, label_set: LabelSet) -> BroaderClasses | None:
    """None for a label set nothing broader is known for (a grouping, a user's
    classifier). Kept per process; a new grouping changes the cache key."""
    if label_set.grouping_of_id is not None or label_set.owner_id is not None:
        return None
    latest = _latest_groupings(label_set.pk)
    key = (label_set.pk, label_set.created_at.isoformat(), latest)
    with _label_names_lock:
        if key in _broader:
            return _broader[key]
    found = _broader_classes_build(label_set=label_set, grouping_ids=latest)
    with _label_names_lock:
        if len(_broader) > 64:
            _broader.clear()
        _broader[key] = found
    return found


def _broader_classes_build(*, label_set: LabelSet, grouping_ids: tuple) -> BroaderClasses | None:
    keys = list(
        Label.objects.filter(label_set_id=label_set.pk)
        .order_by("index")
        .values_list("key", flat=True)
    )
    index = {k: i for i, k in enumerate(keys)}
    candidates: dict[frozenset, tuple] = {}  # members -> (key, name, translations, source, depth)
    for grouping in LabelSet.objects.filter(pk__in=grouping_ids).order_by("pk"):
        matrix = grouping_matrix(label_set=grouping)
        for column, group in enumerate(
            Label.objects.filter(label_set_id=grouping.pk).order_by("index")
        ):
            if group.catch_all:  # "everything else" is not a broader class
                continue
            members = frozenset(np.nonzero(matrix[:, column])[0].tolist())
            candidates.setdefault(
                members, (group.key, group.name, group.translations, f"grouping:{grouping.pk}", 99)
            )
    if hierarchy.covers(keys):
        tree = hierarchy.wordnet()
        deepest: dict[frozenset, tuple] = {}
        for synset, below in tree.members(keys).items():
            members = frozenset(index[k] for k in below)
            node = tree.synsets[synset]
            entry = (synset, node.name, node.translations, "wordnet", len(tree.path(synset)))
            if members not in deepest or entry[4] > deepest[members][4]:
                deepest[members] = entry
        for members, entry in deepest.items():
            candidates.setdefault(members, entry)
    # One class alone is not broader; more than half of them says too little
    # ("a whole", "an artifact").
    chosen = [(m, e) for m, e in candidates.items() if 1 < len(m) <= len(keys) // 2]
    if not chosen:
        return None
    chosen.sort(key=lambda item: (len(item[0]), -item[1][4], item[1][0]))
    matrix = np.zeros((len(keys), len(chosen)), dtype=np.float32)
    for column, (members, _entry) in enumerate(chosen):
        matrix[list(members), column] = 1.0
    return BroaderClasses(
        keys=tuple(e[0] for _m, e in chosen),
        names=tuple(e[1] for _m, e in chosen),
        translations=tuple(e[2] for _m, e in chosen),
        sources=tuple(e[3] for _m, e in chosen),
        sizes=np.array([len(m) for m, _e in chosen]),
        matrix=matrix,
    )


def label_diff(*, before: ModelVersion, after: ModelVersion, language: str) -> dict:
    """How ``after``'s classes differ from ``before``'s, by key: added,
    removed, renamed (same key, another name in English or in a translation)
    and moved (same key, another place in the model's output). Each list is in
    output order."""
    old = {label.key: label for label in label_list_for_set(label_set=before.label_set)}
    new = {label.key: label for label in label_list_for_set(label_set=after.label_set)}
    kept = sorted(old.keys() & new.keys(), key=lambda key: new[key].index)

    def brief(label: Label) -> dict:
        return {
            "key": label.key,
            "index": label.index,
            "name": label.name,
            "localized_name": label.name_in(language),
        }

    def rename(key: str) -> dict:
        was, now = old[key], new[key]
        return {
            "key": key,
            "from_name": was.name,
            "to_name": now.name,
            "from_localized_name": was.name_in(language),
            "to_localized_name": now.name_in(language),
        }

    renamed = [
        rename(key)
        for key in kept
        if (old[key].name, old[key].translations) != (new[key].name, new[key].translations)
    ]
    moved = [
        {"key": key, "from_index": old[key].index, "to_index": new[key].index}
        for key in kept
        if old[key].index != new[key].index
    ]
    return {
        "same_label_set": before.label_set_id == after.label_set_id,
        "added": [brief(label) for key, label in new.items() if key not in old],
        "removed": [brief(label) for key, label in old.items() if key not in new],
        "renamed": renamed,
        "moved": moved,
        "unchanged": len(kept) - len({row["key"] for row in renamed + moved}),
    }
