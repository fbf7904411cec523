"""Groupings made from WordNet's hierarchy: a level of the tree, or a chosen
set of synsets (the rest in an "Other" group). Writes go through
``services.grouping_create``, so they are versioned like any grouping."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from accounts.models import User
from core.exceptions import ApplicationError
from models_registry import hierarchy, services
from models_registry.models import ModelVersion

OTHER_KEY = "other"
OTHER_NAME = gettext_noop("Other")
MAX_GROUPS = 100  # beyond this a grouping is no broader than the classes


def wordnet_group_data(
    *, base_version: ModelVersion, level: int | None = None, synsets: list[str] | None = None
) -> list[services.GroupData]:
    """The groups of a grouping of ``base_version``'s classes at WordNet
    ``level`` (0 is "entity"), or one group per chosen synset plus "Other"."""
    labels = {label.key: label for label in base_version.label_set.labels.all()}
    keys = list(labels)
    if not hierarchy.covers(keys):
        raise ApplicationError(
            _("This model's classes are not WordNet synsets."), code="invalid_grouping"
        )
    if synsets:
        unknown = [s for s in synsets if s not in hierarchy.wordnet()]
        if unknown:
            raise ApplicationError(
                _("Unknown WordNet synsets: %(keys)s") % {"keys": ", ".join(unknown[:5])},
                code="invalid_grouping",
            )
        groups, rest = hierarchy.groups_for_synsets(keys, synsets)
    elif level is not None:
        groups, rest = hierarchy.groups_at_level(keys, level), []
    else:
        raise ApplicationError(_("Choose a level or some synsets."), code="invalid_grouping")
    if len(groups) > MAX_GROUPS:
        raise ApplicationError(
            _("That makes %(count)d groups; choose a level with at most %(max)d.")
            % {"count": len(groups), "max": MAX_GROUPS},
            code="invalid_grouping",
        )
    data = []
    for group in groups:
        # A group of one class is named after the class.
        label = labels[group.members[0]] if len(group.members) == 1 else None
        data.append(
            services.GroupData(
                key=group.key,
                name=label.name if label else group.name,
                translations=label.translations if label else group.translations,
                members=group.members,
            )
        )
    if rest:
        with override("es"):
            other_es = _(OTHER_NAME)
        data.append(
            services.GroupData(
                key=OTHER_KEY,
                name=OTHER_NAME,
                translations={"es": other_es},
                members=[],
                catch_all=True,
            )
        )
    return data


def grouping_create_from_wordnet(
    *,
    name: str,
    base_version: ModelVersion,
    level: int | None = None,
    synsets: list[str] | None = None,
    translations: dict[str, str] | None = None,
    description: str = "",
    user: User | None = None,
) -> ModelVersion:
    groups = wordnet_group_data(base_version=base_version, level=level, synsets=synsets)
    if not description:
        description = (
            f"WordNet 3.0, level {level}."
            if not synsets
            else "WordNet 3.0: " + ", ".join(g.name for g in groups[:8])
        )
    return services.grouping_create(
        name=name,
        base_version=base_version,
        groups=groups,
        description=description,
        translations=translations,
        user=user,
    )
