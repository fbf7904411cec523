"""POST /api/v1/classifications/ with image addresses ({"url"} or {"urls"}),
fetched from a local server standing in for the internet."""

import pytest

from classification.models import Prediction
from tests.conftest import photo
from tests.http_stand_in import Slow

pytestmark = pytest.mark.django_db
URL = "/api/v1/classifications/"


@pytest.fixture
def client_a(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture
def pictures(stand_in):
    coffee = photo("coffee.png")
    stand_in.routes["/photos/espresso.png"] = lambda r: (
        200,
        {"Content-Type": "text/plain"},
        coffee,
    )
    stand_in.routes["/photos/page.jpg"] = lambda r: (
        200,
        {"Content-Type": "image/jpeg"},
        b"<!doctype html><title>a web page</title>",
    )
    stand_in.routes["/moved"] = lambda r: (301, {"Location": "/photos/espresso.png"}, b"")
    stand_in.routes["/to-metadata"] = lambda r: (
        302,
        {"Location": "http://169.254.169.254/latest/meta-data/"},
        b"",
    )
    return stand_in


def test_one_url_is_fetched_and_classified(client_a, user, pictures):
    response = client_a.post(URL, {"url": pictures.url("/moved")}, format="json")
    assert response.status_code == 201, response.json()
    (result,) = response.json()["results"]
    assert result["classes"][0]["key"] == "n07920052"  # espresso
    assert result["original_name"] == "moved"  # named by the address asked for
    assert Prediction.objects.get(pk=result["id"]).user == user
    assert [r.path for r in pictures.requests] == ["/moved", "/photos/espresso.png"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/photos/page.jpg", 400, "not_an_image"),
        ("/to-metadata", 400, "url_refused"),
        ("/nothing-here.jpg", 422, "url_http_error"),
    ],
)
def test_one_bad_url_answers_with_its_reason(client_a, pictures, path, status, code):
    response = client_a.post(URL, {"url": pictures.url(path)}, format="json")
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert not Prediction.objects.exists()


def test_a_private_address_is_refused_without_a_connection(client_a, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    response = client_a.post(URL, {"url": "https://10.0.0.7/cat.jpg"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_refused"
    assert "10.0.0.7" in response.json()["error"]["message"]


def test_too_big_and_too_slow(client_a, pictures, settings):
    settings.FETCH_MAX_BYTES = 20_000
    pictures.routes["/huge.jpg"] = lambda r: (200, {}, b"\xff\xd8" + b"\0" * 50_000)
    response = client_a.post(URL, {"url": pictures.url("/huge.jpg")}, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "url_too_large"

    settings.FETCH_TIMEOUT_SECONDS = 0.5
    slow = Slow((b"\xff" for _ in range(40)), pause=0.1)
    pictures.routes["/slow.jpg"] = lambda r: (200, {"Content-Length": "40"}, slow)
    response = client_a.post(
        URL, {"url": pictures.url("/slow.jpg")}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "url_timeout" and "segundos" in error["message"]


def test_several_urls_are_answered_each_on_its_own(client_a, pictures, settings):
    settings.FETCH_MAX_BYTES = len(photo("coffee.png")) + 1000
    huge = b"\0" * (settings.FETCH_MAX_BYTES + 1)
    pictures.routes["/huge.jpg"] = lambda r: (200, {}, huge)
    urls = [
        pictures.url("/photos/espresso.png"),
        pictures.url("/photos/page.jpg"),
        pictures.url("/huge.jpg"),
        "https://127.0.0.1:1/",  # allowed network, but https and nobody listens
    ]
    response = client_a.post(URL, {"urls": urls, "store": False}, format="json")
    assert response.status_code == 200, response.json()["error"]["details"]
    body = response.json()
    assert [r["index"] for r in body["results"]] == [0]
    errors = {e["index"]: e["code"] for e in body["errors"]}
    assert errors == {1: "not_an_image", 2: "url_too_large", 3: "url_unreachable"}


def test_the_request_names_its_images_one_way(client_a, pictures, settings):
    both = {"url": pictures.url("/photos/espresso.png"), "images": [{"data": "AAAA"}]}
    assert client_a.post(URL, both, format="json").status_code == 400
    assert client_a.post(URL, {}, format="json").status_code == 400
    settings.CLASSIFY_MAX_URLS = 2
    many = {"urls": [pictures.url("/photos/espresso.png")] * 3}
    response = client_a.post(URL, many, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_urls"
    assert pictures.requests == []


def test_a_request_refused_anyway_fetches_nothing(client_a, pictures, imagenet_model):
    address = pictures.url("/photos/espresso.png")
    moved = client_a.post(
        URL, {"url": address, "expected_version": imagenet_model.pk + 1000}, format="json"
    )
    assert moved.status_code == 412 and moved.json()["error"]["code"] == "version_changed"
    unknown = client_a.post(URL, {"url": address, "model": "no-such-alias"}, format="json")
    assert unknown.status_code in (400, 404)
    assert pictures.requests == []  # the address was never fetched
