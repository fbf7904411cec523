"""Landing page, error pages, languages and the things every page must have."""

import re

import pytest
from django.test import Client
from django.urls import path, reverse

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [path("boom/", _boom)]


def test_landing_page_leads_to_signup_and_login(client):
    page = client.get("/").content.decode()
    assert reverse("account_signup") in page
    assert reverse("account_login") in page
    assert '<html lang="en">' in page


def test_landing_page_leads_a_signed_in_user_to_classify(client, user):
    client.force_login(user)
    page = client.get("/").content.decode()
    assert reverse("classification:classify") in page
    assert reverse("account_signup") not in page


def test_accept_language_is_respected_on_first_visit():
    client = Client(headers={"accept-language": "es-ES,es;q=0.9,en;q=0.5"})
    page = client.get("/").content.decode()
    assert '<html lang="es">' in page
    assert "Crear una cuenta gratis" in page


def test_language_switch_is_remembered_over_accept_language(client):
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "es"
    page = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert '<html lang="es">' in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").content.decode()


def test_language_switch_ignores_foreign_redirects(client):
    response = client.post(
        reverse("set_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.url


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Page not found"), ("es", "Página no encontrada")]
)
def test_404_page_in_both_languages(language, title):
    client = Client(headers={"accept-language": language})
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert title in response.content.decode()


@pytest.mark.urls("tests.core.test_pages")
@pytest.mark.parametrize(
    ("language", "title"), [("en", "Something went wrong"), ("es", "Algo salió mal")]
)
def test_500_page_in_both_languages(language, title):
    client = Client(headers={"accept-language": language}, raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert title in body
    assert "Traceback" not in body


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Access denied"), ("es", "Acceso denegado")]
)
def test_403_page_in_both_languages(language, title, user):
    client = Client(headers={"accept-language": language})
    client.force_login(user)  # signed in but not staff
    response = client.get(reverse("admin:login"))
    assert response.status_code == 403
    assert title in response.content.decode()


def test_pages_are_secured_by_headers(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp


def test_no_asset_comes_from_another_site(client, user):
    client.force_login(user)
    for url in ["/", reverse("accounts:profile"), reverse("account_email")]:
        page = client.get(url).content.decode()
        for attr in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not attr.startswith(("http://", "https://", "//")), (url, attr)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_classify_page_needs_login_and_renders(client, user):
    assert client.get(reverse("classification:classify")).status_code == 302
    client.force_login(user)
    assert client.get(reverse("classification:classify")).status_code == 200


def test_readyz_needs_the_database_and_the_default_model(client, imagenet_model):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "model": "EfficientNet-Lite0 v1"}


def test_readyz_is_503_without_a_default_model(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["model"].startswith("error")
