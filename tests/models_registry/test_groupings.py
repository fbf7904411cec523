"""Grouped label sets: groups of another model's classes, their probabilities
summed, built in the admin, versioned, and usable like any classifier."""

import numpy as np
import pytest
from django.urls import reverse

from classification import inference
from classification.selectors import classifier_choices
from core.exceptions import ApplicationError
from models_registry import services
from models_registry.bootstrap import GROUPINGS_DIR, grouping_file_read, groupings_ensure
from models_registry.models import LabelSet, ModelVersion
from models_registry.selectors import grouping_matrix
from tests.accounts.factories import UserFactory
from tests.conftest import photo

pytestmark = pytest.mark.django_db

CATS = ["n02123045", "n02123159", "n02123394", "n02123597", "n02124075"]
DOGS = ["n02085620", "n02085782", "n02099601", "n02110185"]  # chihuahua ... husky


def _groups(**extra):
    return [
        services.GroupData(key="cat", name="Cat", translations={"es": "Gato"}, members=CATS),
        services.GroupData(key="dog", name="Dog", translations={"es": "Perro"}, members=DOGS),
        services.GroupData(key="other", name="Other", members=[], catch_all=True, **extra),
    ]


def test_a_group_is_the_sum_of_its_classes(imagenet_model):
    grouping = services.grouping_create(
        name="cats-dogs", base_version=imagenet_model, groups=_groups()
    )
    assert grouping.is_ready and grouping.onnx_sha256 == imagenet_model.onnx_sha256
    assert grouping.base_version == imagenet_model and grouping.source == "grouping"

    tensor = inference.image_to_tensor(
        photo("chelsea.png"), inference.preprocessing_for(imagenet_model)
    )
    base = inference.run(imagenet_model, tensor)[0]
    grouped = inference.run(grouping, tensor)[0]
    keys = [label.key for label in imagenet_model.label_set.labels.order_by("index")]
    cat = sum(base[keys.index(k)] for k in CATS)
    dog = sum(base[keys.index(k)] for k in DOGS)
    assert np.allclose(grouped, [cat, dog, 1 - cat - dog], atol=1e-5)
    top = inference.classify(photo("chelsea.png"), grouping, language="es")[0]
    assert (top.key, top.name) == ("cat", "Gato") and top.probability > 0.5


def test_matrix_puts_every_class_somewhere_once(imagenet_model):
    grouping = services.grouping_create(name="g", base_version=imagenet_model, groups=_groups())
    matrix = grouping_matrix(label_set=grouping.label_set)
    assert matrix.shape == (1000, 3)
    assert (matrix.sum(axis=1) == 1).all()
    assert matrix[:, 0].sum() == len(CATS) and matrix[:, 2].sum() == 1000 - len(CATS) - len(DOGS)


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (lambda: _groups()[:1], "at least two groups"),
        (
            lambda: [*_groups()[:2], services.GroupData(key="x", name="Empty", members=[])],
            "has no classes",
        ),
        (
            lambda: [*_groups()[:2], services.GroupData(key="x", name="X", members=["nope"])],
            "does not have: nope",
        ),
        (
            lambda: [*_groups()[:2], services.GroupData(key="x", name="X", members=CATS[:1])],
            "is in two groups",
        ),
        (
            lambda: [
                *_groups(),
                services.GroupData(key="y", name="Y", members=[], catch_all=True),
            ],
            "Only one group",
        ),
    ],
)
def test_bad_groupings_are_refused_and_leave_nothing(imagenet_model, groups, message):
    with pytest.raises(ApplicationError, match=message):
        services.grouping_create(name="bad", base_version=imagenet_model, groups=groups())
    assert not LabelSet.objects.filter(name="bad").exists()


def test_same_name_makes_the_next_version_and_keeps_the_old(imagenet_model):
    first = services.grouping_create(name="pets", base_version=imagenet_model, groups=_groups())
    second = services.grouping_create(
        name="pets", base_version=imagenet_model, groups=_groups()[1:] + _groups()[:1]
    )
    assert (first.version, second.version) == (1, 2)
    assert first.label_set.labels.get(index=0).key == "cat"
    assert second.label_set.labels.get(index=0).key == "dog"


def test_shipped_groupings_read_and_apply(imagenet_model):
    names = [grouping_file_read(path)[0] for path in sorted(GROUPINGS_DIR.glob("*.json"))]
    made = groupings_ensure(base_version=imagenet_model)
    assert [m.name for m in made] == names
    assert groupings_ensure(base_version=imagenet_model) == made  # idempotent
    broad = next(m for m in made if "vehicles" in m.name)
    assert inference.classify(photo("coffee.png"), broad, language="es")[0].name == "Comida"
    for version in made:
        for label in version.label_set.labels.all():
            assert label.translations.get("es"), label.name


def test_a_grouping_is_a_classifier_choice_and_classifies_through_the_api(
    api_client, user, imagenet_model
):
    grouping = services.grouping_create(
        name="cats-dogs", base_version=imagenet_model, groups=_groups()
    )
    assert (str(grouping.pk), str(grouping)) in classifier_choices(user=user)
    api_client.force_authenticate(user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api_client.post(
        "/api/v1/classifications/",
        {"file": [SimpleUploadedFile("c.png", photo("chelsea.png"))], "model": grouping.pk},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 201, response.json()
    (result,) = response.json()["results"]
    assert result["classes"][0]["key"] == "cat" and result["classes"][0]["name"] == "Gato"
    assert result["label_set"]["name"] == "cats-dogs"
    label_set = api_client.get(f"/api/v1/label-sets/{grouping.label_set_id}/").json()
    assert label_set["grouping_of"] == imagenet_model.label_set_id


def test_a_private_version_cannot_be_put_behind_an_alias(imagenet_model, user):
    imagenet_model.owner = user
    imagenet_model.save(update_fields=["owner"])
    with pytest.raises(ApplicationError):
        services.model_alias_point(alias="x", version=imagenet_model)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_builds_a_grouping_then_a_new_version_of_it(admin_client, imagenet_model):
    url = reverse("admin:models_registry_grouping_add")
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "tabby cat (n02123045)" in html and "selectfilter" in html.lower()

    form = {
        "base_version": imagenet_model.pk,
        "name": "Cats or dogs",
        "description": "",
        "groups-TOTAL_FORMS": 3,
        "groups-INITIAL_FORMS": 0,
        "groups-MIN_NUM_FORMS": 0,
        "groups-MAX_NUM_FORMS": 100,
        "groups-0-name": "Cat",
        "groups-0-name_es": "Gato",
        "groups-0-members": CATS,
        "groups-1-name": "Dog",
        "groups-1-name_es": "Perro",
        "groups-1-members": DOGS,
        "groups-2-name": "",  # an empty row is ignored
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    version = ModelVersion.objects.get(name="Cats or dogs")
    assert [(label.key, label.translations) for label in version.label_set.labels.all()] == [
        ("cat", {"es": "Gato"}),
        ("dog", {"es": "Perro"}),
    ]

    listing = admin_client.get(reverse("admin:models_registry_grouping_changelist"))
    assert "Cats or dogs" in listing.content.decode()
    view = admin_client.get(
        reverse("admin:models_registry_grouping_change", args=[version.label_set_id])
    )
    assert "Gato" in view.content.decode() and "tabby cat" in view.content.decode()

    # "Edit as a new version": the form comes prefilled; saving makes v2.
    prefilled = admin_client.get(f"{url}?from={version.label_set_id}").content.decode()
    assert 'value="Cats or dogs"' in prefilled and 'value="Gato"' in prefilled
    response = admin_client.post(url, {**form, "groups-1-members": DOGS[:2]})
    assert response.status_code == 302
    assert ModelVersion.objects.filter(name="Cats or dogs").count() == 2

    # A mistake comes back as an error on the form; nothing is saved.
    response = admin_client.post(url, {**form, "groups-1-members": CATS[:1]})
    assert response.status_code == 200 and "is in two groups" in response.content.decode()
    assert ModelVersion.objects.filter(name="Cats or dogs").count() == 2
