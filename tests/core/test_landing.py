"""The landing page's example result is real: the stored classes are what the
default model answers for the shipped photo, and the page shows them."""

import json

import pytest
from django.templatetags.static import static

from classification.management.commands.landing_example import landing_example_compute
from core.landing import EXAMPLE_FILE


def test_the_stored_example_is_what_the_model_answers(imagenet_model):
    stored = json.loads(EXAMPLE_FILE.read_text())
    fresh = landing_example_compute(version=imagenet_model)
    assert [row["key"] for row in fresh["classes"]] == [row["key"] for row in stored["classes"]]
    for now, then in zip(fresh["classes"], stored["classes"], strict=True):
        assert now["names"] == then["names"]
        assert now["probability"] == pytest.approx(then["probability"], abs=0.005)
    assert stored["classes"][0]["names"] == {"en": "espresso", "es": "café exprés"}


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [("en", "espresso"), ("es", "café exprés")])
def test_the_home_page_shows_the_example_without_running_a_model(client, language, expected):
    # No model is installed here: the page reads the stored result.
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
    content = response.content.decode()
    assert response.status_code == 200
    assert f'<span class="class-name">{expected}</span>' in content
    assert "95%" in content and "&lt;1%" in content
    image = static(json.loads(EXAMPLE_FILE.read_text())["image"])
    assert f'src="{image}"' in content
    assert client.get(image).status_code == 200
