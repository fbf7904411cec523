"""History: one FilterSet for the gallery page, its exports and the API list
(and so the schema), the empty answers, and the confirmation before deleting."""

import csv
import io
import json

import pytest
from django.urls import reverse

from classification.models import Image, Prediction
from tests.accounts.factories import UserFactory
from tests.classification import records

pytestmark = pytest.mark.django_db

API = "/api/v1/classifications/"
PAGE = reverse("classification:history")


@pytest.fixture
def toy(user):
    return records.toy_version(
        classes=[
            ("n01", "mouse", "ratón"),
            ("n02", "tabby cat", "gato atigrado"),
            ("dog-key", "dog", "perro"),
        ]
    )


@pytest.fixture
def history(user, toy):
    """Four classifications of the user, one of another user."""
    made = {
        "mouse": records.prediction(user=user, version=toy, key="n01", name="garden-1.jpg"),
        "cat": records.prediction(user=user, version=toy, key="n02", name="Sofa.PNG"),
        "dog": records.prediction(user=user, version=toy, key="dog-key", name="garden-2.jpg"),
        "unsure": records.prediction(
            user=user, version=toy, key="n02", name="blur.jpg", probability=0.2, none_of_these=True
        ),
    }
    records.prediction(user=UserFactory(), version=toy, key="n01", name="garden-9.jpg")
    return made


def _page_ids(client, query: dict, language: str = "en") -> set[int]:
    response = client.get(PAGE, query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return {card["prediction"].pk for card in response.context["cards"]}


def _api_ids(client, query: dict, language: str = "en") -> set[int]:
    response = client.get(API, query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def _export_files(client, query: dict, language: str = "en") -> set[str]:
    url = reverse("classification:history_export", args=["json"])
    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE=language)
    return {row["file"] for row in json.loads(response.content)}


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        ({}, "en", {"mouse", "cat", "dog", "unsure"}),
        ({"label": "mouse"}, "en", {"mouse"}),
        ({"label": "RATON"}, "es", {"mouse"}),  # Spanish name, case and accent ignored
        ({"label": "raton"}, "en", set()),  # ...only in the viewer's language
        ({"label": "n0"}, "en", {"mouse", "cat", "unsure"}),  # by key, in any language
        ({"label": "perro"}, "es", {"dog"}),
        ({"file": "GARDEN"}, "en", {"mouse", "dog"}),  # not the other user's garden-9
        ({"file": "garden", "label": "dog"}, "en", {"dog"}),
        ({"file": ".png"}, "en", {"cat"}),
        ({"since": "2999-01-01"}, "en", set()),
        ({"until": "2999-01-01", "label": "gato"}, "es", {"cat", "unsure"}),
    ],
)
def test_page_api_and_export_answer_the_same(client, user, history, query, language, expected):
    client.force_login(user)
    ids = {history[name].pk for name in expected}
    files = {history[name].original_name for name in expected}
    assert _page_ids(client, query, language) == ids
    assert _api_ids(client, query, language) == ids
    assert _export_files(client, query, language) == files


def test_filter_by_model_lists_only_versions_the_user_has_used(client, user, history, toy):
    unused = records.toy_version(name="Unused", classes=[("k", "k", "k")])
    client.force_login(user)
    assert _api_ids(client, {"model": toy.pk}) == {p.pk for p in history.values()}
    assert _page_ids(client, {"model": toy.pk}) == {p.pk for p in history.values()}
    refused = client.get(API, {"model": unused.pk})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    page = client.get(PAGE).content.decode()
    assert f'<option value="{toy.pk}">' in page and f'value="{unused.pk}"' not in page


def test_bad_filters_get_a_clear_answer_everywhere(client, user, history):
    client.force_login(user)
    api = client.get(API, {"since": "not-a-date"})
    assert api.status_code == 400 and "since" in api.json()["error"]["details"]
    page = client.get(PAGE, {"since": "not-a-date"})
    assert page.status_code == 200 and page.context["cards"] == []
    assert "Enter a valid date." in page.content.decode()
    export = client.get(reverse("classification:history_export", args=["csv"]), {"since": "x"})
    assert export.status_code == 400 and b"since" in export.content


def test_csv_export_follows_the_filters_and_stays_formula_safe(client, user, toy):
    records.prediction(user=user, version=toy, key="n01", name="=HYPERLINK(1).jpg")
    records.prediction(user=user, version=toy, key="n02", name="other.jpg")
    client.force_login(user)
    url = reverse("classification:history_export", args=["csv"])
    response = client.get(url, {"label": "mouse"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(1).jpg"]


def test_schema_documents_the_filterset(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/classifications/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"label", "file", "model", "since", "until", "page"} <= set(parameters)
    assert parameters["since"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["model"]["schema"]["type"] == "integer"
    assert "accents" in parameters["label"]["description"]
    assert "parameters" not in schema["paths"]["/api/v1/classifications/"]["post"] or not any(
        p["name"] == "label"
        for p in schema["paths"]["/api/v1/classifications/"]["post"]["parameters"]
    )


def test_an_empty_result_says_so_and_an_empty_history_invites(client, user, toy):
    client.force_login(user)
    empty = client.get(PAGE).content.decode()
    assert "Nothing here yet." in empty and "No classification matches" not in empty
    assert "Delete all" not in empty
    records.prediction(user=user, version=toy, key="n01")
    miss = client.get(PAGE, {"label": "zebra"}).content.decode()
    assert "No classification matches these filters." in miss
    assert "Nothing here yet." not in miss and "Clear filters" in miss
    spanish = client.get(PAGE, {"label": "zebra"}, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Ninguna clasificación coincide con estos filtros." in spanish


def test_gallery_cards_show_thumbnail_class_and_confidence(client, user, toy):
    image = records.kept_image(user=user, data=records.noisy_jpeg())
    records.prediction(user=user, version=toy, key="n02", name="sofa.jpg", image=image)
    records.prediction(
        user=user, version=toy, key="n01", name="blur.jpg", probability=0.31, none_of_these=True
    )
    client.force_login(user)
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'class="gallery history-gallery"' in page and "<table" not in page
    assert reverse("classification:thumbnail", args=[image.pk]) in page
    assert "gato atigrado" in page and "90%" in page
    assert "Ninguna de estas" in page and "la más cercana: ratón" in page and "31%" in page
    assert "Imagen no guardada" in page


def test_gallery_is_paginated_keeping_the_filters(client, user, toy):
    for n in range(30):
        records.prediction(user=user, version=toy, key="n01", name=f"{n}.jpg")
    records.prediction(user=user, version=toy, key="n02", name="cat.jpg")
    client.force_login(user)
    first = client.get(PAGE, {"label": "mouse"})
    assert len(first.context["cards"]) == 24
    body = first.content.decode()
    assert "Page 1 of 2" in body and "label=mouse&amp;page=2" in body
    second = client.get(PAGE, {"label": "mouse", "page": 2})
    assert len(second.context["cards"]) == 6


def test_deleting_one_asks_first(client, user, toy):
    image = records.kept_image(user=user, data=records.noisy_jpeg())
    target = records.prediction(user=user, version=toy, key="n02", name="sofa.jpg", image=image)
    client.force_login(user)
    url = reverse("classification:prediction_delete", args=[target.pk])
    detail = client.get(reverse("classification:prediction_detail", args=[target.pk]))
    assert f'href="{url}"' in detail.content.decode()  # a link to the question, not a POST
    question = client.get(url)
    assert question.status_code == 200
    body = question.content.decode()
    assert "Delete this classification?" in body and 'method="post"' in body
    assert "sofa.jpg" in body and "tabby cat" in body
    assert Prediction.objects.filter(pk=target.pk).exists()  # asking deletes nothing
    response = client.post(url)
    assert response.status_code == 302 and response.url == PAGE
    assert not Prediction.objects.filter(pk=target.pk).exists()
    assert not Image.objects.filter(pk=image.pk).exists()


def test_another_user_cannot_see_or_delete(client, user, toy):
    target = records.prediction(user=user, version=toy, key="n01")
    client.force_login(UserFactory())
    url = reverse("classification:prediction_delete", args=[target.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Prediction.objects.filter(pk=target.pk).exists()
