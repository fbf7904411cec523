"""The classify page without JavaScript: every file answered on its own, and
what the page hands its scripts (strings, API addresses, the camera module)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classification.models import Image, Prediction
from tests.conftest import photo

pytestmark = pytest.mark.django_db
PAGE = "/classify/"


@pytest.fixture
def owner_client(client, user, imagenet_model):
    client.force_login(user)
    return client


def _mixed() -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile("cat.jpg", photo("chelsea.png")),
        SimpleUploadedFile("notes.txt", b"shopping list"),
        SimpleUploadedFile("empty.jpg", b""),
    ]


def _cards(html: str) -> list[str]:
    section = html[
        html.index('<section id="results"') : html.index(
            "</section>", html.index('<section id="results"')
        )
    ]
    return re.findall(
        r"<article class=\"(result[^\"]*)\">.*?<h2 class=\"result-title\">([^<]*)</h2>",
        section,
        re.S,
    )


@pytest.mark.parametrize(
    ("language", "not_classified", "empty"),
    [
        ("en", "Not classified:", "The file is empty."),
        ("es", "Sin clasificar:", "El archivo está vacío."),
    ],
)
def test_good_files_are_classified_and_bad_ones_listed(
    owner_client, user, language, not_classified, empty
):
    response = owner_client.post(
        PAGE,
        {"file": _mixed(), "model": "default", "store": "on"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert _cards(html) == [
        ("result", "cat.jpg"),
        ("result result-failed", "notes.txt"),
        ("result result-failed", "empty.jpg"),
    ]
    answers = html[html.index('<section id="results"') : html.index('<template id="result')]
    assert answers.count(not_classified) == 2
    assert empty in answers
    prediction = Prediction.objects.get(user=user)
    assert prediction.original_name == "cat.jpg" and prediction.image is not None
    assert reverse("classification:thumbnail", args=[prediction.image_id]) in html


def test_no_good_file_is_a_400_that_still_names_each_file(owner_client):
    response = owner_client.post(PAGE, {"file": _mixed()[1:], "model": "default"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "None of the files could be classified." in html
    assert _cards(html) == [
        ("result result-failed", "notes.txt"),
        ("result result-failed", "empty.jpg"),
    ]
    assert not Prediction.objects.exists() and not Image.objects.exists()


def test_a_request_limit_fails_the_whole_upload(owner_client, settings):
    settings.CLASSIFY_MAX_FILES = 2
    response = owner_client.post(PAGE, {"file": _mixed(), "model": "default"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "At most 2 images per request" in html and _cards(html) == []
    assert not Prediction.objects.exists()


def test_the_page_gives_its_scripts_what_they_need(owner_client):
    html = owner_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'data-api="/api/v1/classifications/"' in html
    assert 'data-preview-api="/api/v1/classifications/preview/"' in html
    for script in (
        "core/camera.js",
        "classification/classify.js",
        "classification/classify_live.js",
    ):
        assert f'src="/static/{script}"' in html
    assert "<script>" not in html and " style=" not in html  # the CSP allows neither
    # Every string the scripts show is in Spanish here.
    strings = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', html[html.index('id="strings"') :]))
    assert strings["summary"] == "Clasificadas: {done} · Sin clasificar: {failed}"
    assert strings["camera-denied"].startswith("Se denegó el acceso a la cámara")
    assert strings["uploading"] == "Subiendo…"
    # Without JavaScript: the file pickers, the phone's camera picker; no live camera.
    assert 'accept="image/*" multiple' in html and 'capture="environment"' in html
    assert re.search(r'<button type="button" id="camera-start"[^>]* hidden>', html)
    assert re.search(r'<section id="camera-panel"[^>]* hidden', html)
