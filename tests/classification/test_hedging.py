"""Hedged answers: below the confidence asked for, the smallest broader class
that reaches it (WordNet's hypernyms, administrators' groupings), on real photos."""

import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classification import hedging
from classification.models import Prediction
from models_registry import services
from models_registry.bootstrap import IMAGENET_FILE
from tests.conftest import photo

pytestmark = pytest.mark.django_db
URL = "/api/v1/classifications/"
DOMESTIC_CAT = "n02121808"  # tabby, tiger cat, Persian, Siamese, Egyptian Mau
TIGER_CAT, EGYPTIAN_MAU, TABBY = "n02123159", "n02124075", "n02123045"


@pytest.fixture
def client_a(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    return api_client


def _classify(client, name: str, **options):
    data = {"file": [SimpleUploadedFile(name, photo(name))], **options}
    response = client.post(URL, data, format="multipart", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 201), response.json()
    return response.json()["results"][0]


def test_an_unsure_cat_is_hedged_to_domestic_cat(client_a):
    result = _classify(client_a, "chelsea.png")
    top = result["classes"][0]
    assert top["probability"] < 0.5  # Egyptian Mau and tiger cat share the vote
    hedged = result["hedged"]
    assert hedged["key"] == DOMESTIC_CAT and hedged["name"] == "domestic cat"
    assert hedged["confidence"] >= 0.5 and hedged["threshold"] == 0.5 and hedged["classes"] == 5
    contributors = hedged["contributors"]
    assert contributors[0]["key"] == top["key"] and contributors[0]["name"] == top["name"]
    assert {TIGER_CAT, EGYPTIAN_MAU, TABBY} <= {c["key"] for c in contributors}
    # The broader class is the sum of its classes, which the raw ranking shows too.
    assert sum(c["probability"] for c in contributors) == pytest.approx(
        hedged["confidence"], abs=0.01
    )
    assert sorted(c["probability"] for c in contributors)[::-1] == [
        c["probability"] for c in contributors
    ]
    # Kept with the classification: the history's answer says the same.
    stored = client_a.get(result["url"]).json()
    assert stored["hedged"] == hedged
    assert Prediction.objects.get(pk=result["id"]).hedged["key"] == DOMESTIC_CAT


def test_hedge_false_turns_it_off(client_a):
    result = _classify(client_a, "chelsea.png", hedge="false", store="false")
    assert result["hedged"] is None and result["classes"][0]["probability"] < 0.5
    # A confidence of 0 asks for none: every answer reaches it.
    result = _classify(client_a, "chelsea.png", min_confidence="0", store="false")
    assert result["hedged"] is None


def test_a_confident_answer_is_not_hedged_unless_more_is_asked(client_a):
    coffee = _classify(client_a, "coffee.png", store="false")
    assert coffee["classes"][0]["name"] == "espresso" and coffee["hedged"] is None
    # Asking for 97 %: espresso (about 96 %) is not enough, a broader class is.
    strict = _classify(client_a, "coffee.png", store="false", min_confidence="0.97")
    assert strict["classes"] == []  # no class reaches it
    assert strict["hedged"]["confidence"] >= 0.97 and strict["hedged"]["threshold"] == 0.97
    assert strict["hedged"]["contributors"][0]["name"] == "espresso"


def test_the_threshold_and_the_spanish_names_follow_the_request(client_a, settings):
    settings.CLASSIFY_HEDGE_CONFIDENCE = 0.3  # Egyptian Mau (38 %) is enough
    assert _classify(client_a, "chelsea.png", store="false")["hedged"] is None
    response = client_a.post(
        "/api/v1/classifications/preview/",
        {"file": [SimpleUploadedFile("cat.png", photo("chelsea.png"))], "min_confidence": "0.9"},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    hedged = response.json()["results"][0]["hedged"]
    assert hedged["key"] == DOMESTIC_CAT and hedged["name"] == "gato doméstico"
    spanish = {r["key"]: r["name_es"] for r in json.loads(IMAGENET_FILE.read_text("utf-8"))}
    first = hedged["contributors"][0]
    assert first["name"] == spanish[first["key"]]


def test_an_administrators_grouping_is_a_broader_class_too(client_a, imagenet_model):
    services.grouping_create(
        name="Striped cats",
        base_version=imagenet_model,
        groups=[
            services.GroupData(
                key="striped",
                name="Striped cat",
                translations={"es": "Gato rayado"},
                members=[TIGER_CAT, EGYPTIAN_MAU],
            ),
            services.GroupData(key="rest", name="Rest", members=[], catch_all=True),
        ],
    )
    result = _classify(client_a, "chelsea.png", store="false")
    hedged = result["hedged"]
    # Two classes are smaller than WordNet's "domestic cat" (five).
    assert (hedged["key"], hedged["name"], hedged["classes"]) == ("striped", "Striped cat", 2)
    assert {c["key"] for c in hedged["contributors"]} == {TIGER_CAT, EGYPTIAN_MAU}
    # Asking for more than the group holds falls back to WordNet.
    assert (
        _classify(client_a, "chelsea.png", store="false", min_confidence="0.85")["hedged"]["key"]
        == DOMESTIC_CAT
    )


def test_a_grouping_or_a_users_classifier_has_nothing_broader(imagenet_model):
    grouping = services.grouping_create(
        name="Two",
        base_version=imagenet_model,
        groups=[
            services.GroupData(key="cat", name="Cat", members=[TABBY]),
            services.GroupData(key="rest", name="Rest", members=[], catch_all=True),
        ],
    )
    assert hedging.hedge(np.array([0.4, 0.6]), grouping, threshold=0.9) is None


def test_the_rocket_is_probably_a_weapon(client_a):
    hedged = _classify(client_a, "rocket.jpg", store="false")["hedged"]
    assert hedged["name"] == "weapon"
    assert [c["name"] for c in hedged["contributors"]][:2] == ["missile", "projectile"]


def test_the_classify_page_shows_it_in_both_languages(client, user, imagenet_model):
    client.force_login(user)
    for language, text in (
        ("en", "Probably a kind of domestic cat ("),
        ("es", "Probablemente un tipo de gato doméstico ("),
    ):
        page = client.post(
            "/classify/",
            {"file": SimpleUploadedFile("cat.png", photo("chelsea.png")), "model": "default"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        html = page.content.decode()
        assert page.status_code == 200 and text in html, html[:2000]
        assert 'class="hedged-contributors"' in html


def test_the_classification_page_shows_it_later(client, user, imagenet_model, api_client):
    api_client.force_authenticate(user)
    result = _classify(api_client, "chelsea.png")
    client.force_login(user)
    page = client.get(f"/classify/history/{result['id']}/", HTTP_ACCEPT_LANGUAGE="es")
    html = page.content.decode()
    assert page.status_code == 200 and "Probablemente un tipo de gato doméstico (" in html
