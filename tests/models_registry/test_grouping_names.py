"""A grouping's own name (and the "default" alias) in the viewer's language:
in the classifier menu, in "Answered by ...", in History, on a batch, in the
API; the admin gets a Spanish field for it."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from models_registry import services
from models_registry.bootstrap import GROUPINGS_DIR, grouping_file_read, groupings_ensure
from models_registry.models import LabelSet
from tests.accounts.factories import UserFactory
from tests.conftest import photo
from tests.models_registry.test_groupings import _groups

pytestmark = pytest.mark.django_db

NAMES = {
    "en": {"pets": "Pets v1", "default": "default (EfficientNet-Lite0 v1)"},
    "es": {"pets": "Mascotas v1", "default": "predeterminado (EfficientNet-Lite0 v1)"},
}


def _options(page: str) -> list[str]:
    return [text.strip() for text in re.findall(r"<option[^>]*>([^<]+)</option>", page)]


def test_every_shipped_grouping_has_a_spanish_name():
    for path in sorted(GROUPINGS_DIR.glob("*.json")):
        grouping = grouping_file_read(path)
        assert grouping.translations.get("es"), path.name
        assert grouping.translations["es"] != grouping.name


@pytest.mark.parametrize("language", ["en", "es"])
def test_built_in_grouping_is_named_in_the_viewers_language(client, imagenet_model, language):
    pets = next(v for v in groupings_ensure(base_version=imagenet_model) if v.name == "Pets")
    names = NAMES[language]
    client.force_login(UserFactory())
    client.cookies["django_language"] = language

    # The classifier menu.
    options = _options(client.get(reverse("classification:classify")).content.decode())
    assert names["pets"] in options and names["default"] in options
    assert NAMES["en" if language == "es" else "es"]["pets"] not in options

    # "Answered by ..." on the page without JavaScript.
    response = client.post(
        reverse("classification:classify"),
        {"model": str(pets.pk), "file": SimpleUploadedFile("cat.png", photo("chelsea.png"))},
    )
    page = response.content.decode()
    answered = {"en": "Answered by", "es": "Respondido por"}[language]
    assert f"{answered} {names['pets']}" in page

    # History, and the classification's own page.
    history = client.get(reverse("classification:history")).content.decode()
    assert names["pets"] in history
    assert "Pets v1" not in history or language == "en"

    # The API: the canonical name and the viewer's.
    listed = client.get(reverse("api:classification-list"), HTTP_ACCEPT_LANGUAGE=language).json()
    model = listed["results"][0]["model"]
    assert model["name"] == "Pets"
    assert model["localized_name"] == names["pets"].removesuffix(" v1")


def test_grouping_admin_saves_and_shows_the_spanish_name(client, imagenet_model):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    add_url = reverse("admin:models_registry_grouping_add")
    assert 'name="name_es"' in client.get(add_url).content.decode()

    data = {
        "base_version": imagenet_model.pk,
        "name": "Cats and dogs",
        "name_es": "Gatos y perros",
        "description": "",
        "groups-TOTAL_FORMS": "3",
        "groups-INITIAL_FORMS": "0",
        "groups-MIN_NUM_FORMS": "0",
        "groups-MAX_NUM_FORMS": "100",
    }
    for index, group in enumerate(_groups()):
        data[f"groups-{index}-name"] = group.name
        data[f"groups-{index}-name_es"] = group.translations.get("es", "Otro")
        data[f"groups-{index}-key"] = group.key
        if group.catch_all:
            data[f"groups-{index}-catch_all"] = "on"
        data[f"groups-{index}-members"] = group.members
    response = client.post(add_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    grouping = LabelSet.objects.get(name="Cats and dogs")
    assert grouping.translations == {"es": "Gatos y perros"}

    # Shown on its page, and carried into "Edit as a new version".
    change = client.get(reverse("admin:models_registry_grouping_change", args=[grouping.pk]))
    assert "Gatos y perros" in change.content.decode()
    again = client.get(f"{add_url}?from={grouping.pk}").content.decode()
    assert 'value="Gatos y perros"' in again


def test_a_grouping_without_a_translation_keeps_its_name(imagenet_model):
    version = services.grouping_create(name="Plain", base_version=imagenet_model, groups=_groups())
    assert version.name_in("es") == "Plain"
    assert version.label_set.name_in("es") == "Plain"


def test_migration_names_groupings_made_before_in_spanish(imagenet_model):
    """Groupings made by bootstrap_models before names had translations."""
    import importlib

    from django.apps import apps

    made = groupings_ensure(base_version=imagenet_model)
    for version in made:
        LabelSet.objects.filter(pk=version.label_set_id).update(translations={})
    own = LabelSet.objects.get(pk=made[0].label_set_id)
    own.translations = {"es": "Nombre propio"}
    own.save()

    migration = importlib.import_module(
        "models_registry.migrations.0010_built_in_groupings_named_in_spanish"
    )
    migration.name_in_spanish(apps, None)
    names = {
        ls.name: ls.translations.get("es")
        for ls in LabelSet.objects.filter(grouping_of__isnull=False)
    }
    assert names[own.name] == "Nombre propio"  # an administrator's translation is kept
    assert own.name != "Pets" and names["Pets"] == "Mascotas"

    migration.forget_spanish_names(apps, None)
    names = {
        ls.name: ls.translations.get("es")
        for ls in LabelSet.objects.filter(grouping_of__isnull=False)
    }
    assert names[own.name] == "Nombre propio"
    assert set(names.values()) == {"Nombre propio", None}
