"""WordNet's hierarchy shipped in models_registry/data/wordnet/, and the
groupings an administrator makes from it (a level of the tree, or synsets)."""

import json

import pytest
from django.urls import reverse

from core.exceptions import ApplicationError
from models_registry import hierarchy
from models_registry.bootstrap import IMAGENET_FILE
from models_registry.models import ModelVersion
from models_registry.selectors import grouping_matrix
from models_registry.wordnet_groupings import grouping_create_from_wordnet
from tests.accounts.factories import UserFactory

KEYS = [row["key"] for row in json.loads(IMAGENET_FILE.read_text(encoding="utf-8"))]
ENTITY = "n00001740"
DOG, DOMESTIC_CAT = "n02084071", "n02121808"


def test_every_imagenet_class_is_in_the_file_and_reaches_entity():
    tree = hierarchy.wordnet()
    data = json.loads(hierarchy.HIERARCHY_FILE.read_text(encoding="utf-8"))
    assert data["root"] == ENTITY and data["classes"] == len(KEYS) == 1000
    missing = [key for key in KEYS if key not in tree]
    assert missing == []
    for key in KEYS:
        assert ENTITY in tree.ancestors(key), key
        assert tree.path(key)[0] == ENTITY
    # Every parent a synset names is itself in the file (no dangling links).
    dangling = {p for s in tree.synsets.values() for p in s.parents if p not in tree}
    assert dangling == set()


def test_the_file_keeps_only_what_lies_above_the_classes():
    tree = hierarchy.wordnet()
    above = set(KEYS).union(*(tree.ancestors(key) for key in KEYS))
    assert set(tree.synsets) == above
    assert hierarchy.HIERARCHY_FILE.stat().st_size < 200_000
    assert (hierarchy.WORDNET_DIR / "LICENSE").read_text().count("WordNet 3.0 Copyright 2006") == 1


def test_known_hypernyms_and_their_spanish_names():
    tree = hierarchy.wordnet()
    beagle, tabby = "n02088364", "n02123045"
    assert DOG in tree.ancestors(beagle) and DOMESTIC_CAT in tree.ancestors(tabby)
    assert DOG not in tree.ancestors(tabby)
    assert tree.synsets[DOG].name == "dog" and tree.synsets[DOG].translations == {"es": "perro"}
    below = tree.members(KEYS)
    assert len(below[DOMESTIC_CAT]) == 5 and len(below[ENTITY]) == 1000


@pytest.mark.parametrize("level", [1, 3, 5, 6])
def test_a_level_puts_every_class_in_exactly_one_group(level):
    groups = hierarchy.groups_at_level(KEYS, level)
    members = [key for group in groups for key in group.members]
    assert sorted(members) == sorted(KEYS)
    assert dict(hierarchy.level_sizes(KEYS))[level] == len(groups)


def test_every_group_of_the_offered_levels_has_a_spanish_name():
    tree = hierarchy.wordnet()
    untranslated = {
        group.key
        for level, count in hierarchy.level_sizes(KEYS)
        if count <= 100
        for group in hierarchy.groups_at_level(KEYS, level)
        if len(group.members) > 1 and "es" not in tree.synsets[group.key].translations
    }
    assert untranslated == set()


def test_chosen_synsets_take_the_most_specific_home():
    groups, rest = hierarchy.groups_for_synsets(KEYS, ["n00015388", DOG])  # animal, dog
    by_key = {group.key: group for group in groups}
    assert len(by_key[DOG].members) == 118
    assert "n02088364" in by_key[DOG].members and "n02088364" not in by_key["n00015388"].members
    assert len(by_key["n00015388"].members) + 118 + len(rest) == 1000


@pytest.mark.django_db
def test_a_grouping_at_a_level_classifies_like_any_grouping(imagenet_model):
    version = grouping_create_from_wordnet(
        name="WordNet level 4", base_version=imagenet_model, level=4
    )
    assert version.is_ready and version.source == ModelVersion.Source.GROUPING
    matrix = grouping_matrix(label_set=version.label_set)
    assert matrix.shape == (1000, 16) and (matrix.sum(axis=1) == 1).all()
    names = dict(version.label_set.labels.values_list("key", "translations"))
    assert names["n00021939"] == {"es": "artefacto"}  # artifact


@pytest.mark.django_db
def test_synsets_make_groups_and_other(imagenet_model):
    version = grouping_create_from_wordnet(
        name="Cats and dogs",
        translations={"es": "Gatos y perros"},
        base_version=imagenet_model,
        synsets=[DOG, DOMESTIC_CAT],
    )
    groups = list(version.label_set.labels.order_by("index"))
    assert [(g.key, g.name, g.translations.get("es")) for g in groups] == [
        (DOG, "dog", "perro"),
        (DOMESTIC_CAT, "domestic cat", "gato doméstico"),
        ("other", "Other", "Otro"),
    ]
    assert groups[2].catch_all
    with pytest.raises(ApplicationError):
        grouping_create_from_wordnet(name="x", base_version=imagenet_model, synsets=["n99999999"])
    with pytest.raises(ApplicationError):
        grouping_create_from_wordnet(name="x", base_version=imagenet_model, level=9)  # 500 groups


@pytest.mark.django_db
def test_the_admin_builds_one_from_a_level(client, imagenet_model):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:models_registry_grouping_wordnet")
    page = client.get(url)
    assert page.status_code == 200
    assert "Level 3: 10 groups" in page.content.decode()
    refused = client.post(url, {"name": "Nothing chosen", "base_version": imagenet_model.pk})
    assert (
        refused.status_code == 200 and "Choose a level or some synsets." in refused.content.decode()
    )
    done = client.post(
        url,
        {"name": "Broad", "name_es": "Amplio", "level": "2", "base_version": imagenet_model.pk},
    )
    assert done.status_code == 302
    version = ModelVersion.objects.get(name="Broad")
    assert version.label_set.translations == {"es": "Amplio"}
    assert version.label_set.labels.count() == 4
