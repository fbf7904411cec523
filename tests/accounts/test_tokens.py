"""Personal API tokens: created and revoked from the profile page, used by the API."""

import re

import pytest
from django.urls import reverse

from accounts import services, views
from accounts.models import ApiToken
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def _create_from_profile(client, name="laptop script") -> str:
    response = client.post(reverse("accounts:token_create"), {"name": name, "scopes": ["classify"]})
    assert response.status_code == 303
    assert response.url == reverse("accounts:token_created")
    page = client.get(response.url)
    match = re.search(r'data-testid="new-token">([^<]+)<', page.content.decode())
    assert match, "the new key is shown once on the page"
    return match.group(1)


def test_the_key_is_shown_once_on_a_page_no_one_caches(client, user):
    client.force_login(user)
    response = client.post(reverse("accounts:token_create"), {"name": "ci", "scopes": ["classify"]})
    cookie = response.cookies[views.NEW_KEY_COOKIE]
    assert cookie["path"] == reverse("accounts:token_created") and cookie["httponly"]
    assert cookie["samesite"] == "Strict" and int(cookie["max-age"]) <= 300

    page = client.get(response.url)
    key = re.search(r'data-testid="new-token">([^<]+)<', page.content.decode()).group(1)
    assert ApiToken.objects.get(user=user).key_digest == ApiToken.digest(key)
    assert "no-store" in page["Cache-Control"]
    assert page.cookies[views.NEW_KEY_COOKIE].value == ""  # deleted

    reloaded = client.get(response.url)
    assert reloaded.status_code == 200 and "no-store" in reloaded["Cache-Control"]
    assert key not in reloaded.content.decode()
    assert 'data-testid="no-token"' in reloaded.content.decode()
    assert ApiToken.objects.filter(user=user).count() == 1


def test_the_key_page_shows_only_the_signed_in_users_own_key(client, user, other_user):
    client.force_login(other_user)
    response = client.post(
        reverse("accounts:token_create"), {"name": "theirs", "scopes": ["classify"]}
    )
    stolen = response.cookies[views.NEW_KEY_COOKIE].value
    client.force_login(user)
    client.cookies[views.NEW_KEY_COOKIE] = stolen
    page = client.get(reverse("accounts:token_created")).content.decode()
    assert 'data-testid="new-token"' not in page and 'data-testid="no-token"' in page

    client.cookies[views.NEW_KEY_COOKIE] = "pst_forged"  # not signed by the site
    page = client.get(reverse("accounts:token_created")).content.decode()
    assert 'data-testid="no-token"' in page


def test_revoke_all_asks_first_then_revokes_only_the_users_tokens(
    client, api_client, user, other_user
):
    _one, key = services.api_token_create(user=user, name="one")
    services.api_token_create(user=user, name="two")
    services.api_token_create(user=other_user, name="theirs")
    client.force_login(user)
    assert (
        reverse("accounts:token_revoke_all")
        in client.get(reverse("accounts:profile")).content.decode()
    )

    confirm = client.get(reverse("accounts:token_revoke_all"))
    assert "This revokes 2 API tokens" in confirm.content.decode()
    assert ApiToken.objects.filter(user=user).count() == 2  # a GET revokes nothing

    response = client.post(reverse("accounts:token_revoke_all"), follow=True)
    assert "2 tokens were revoked" in response.content.decode()
    assert not ApiToken.objects.filter(user=user).exists()
    assert ApiToken.objects.filter(user=other_user).count() == 1
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_revoke_all_in_spanish(client, user):
    services.api_token_create(user=user, name="uno")
    client.force_login(user)
    response = client.post(
        reverse("accounts:token_revoke_all"), follow=True, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert "Se revocó 1 token" in response.content.decode()


def test_token_created_on_profile_authenticates_the_api(client, api_client, user):
    client.force_login(user)
    key = _create_from_profile(client)
    assert key.startswith("pst_")
    token = ApiToken.objects.get(user=user)
    assert token.key_digest == ApiToken.digest(key)
    assert key not in token.key_digest  # only a digest is stored

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    token.refresh_from_db()
    assert token.last_used_at is not None

    # The profile lists it without the key.
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "laptop script" in page
    assert key not in page


def test_revoked_token_no_longer_works(client, api_client, user):
    client.force_login(user)
    key = _create_from_profile(client)
    token = ApiToken.objects.get(user=user)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_user_cannot_revoke_someone_elses_token(client, user, other_user):
    token, _key = services.api_token_create(user=other_user, name="theirs")
    client.force_login(user)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]), follow=True)
    assert "does not exist" in response.content.decode()
    assert ApiToken.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize(
    "header",
    ["Bearer pst_not-a-real-token", "Bearer", "Token a b", "Bearer \xff"],
)
def test_bad_tokens_are_401_with_one_error_shape(api_client, header, user):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "authentication_failed"
    assert body["error"]["message"]


def test_no_credentials_is_401(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_inactive_users_token_is_refused(api_client, user):
    _token, key = services.api_token_create(user=user, name="x")
    user.is_active = False
    user.save()
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401


def test_token_limit_and_blank_name(client, user, settings):
    settings.API_TOKENS_PER_USER = 2
    services.api_token_create(user=user, name="one")
    services.api_token_create(user=user, name="two")
    with pytest.raises(ApplicationError) as error:
        services.api_token_create(user=user, name="three")
    assert error.value.code == "token_limit_reached"
    with pytest.raises(ApplicationError):
        services.api_token_create(user=user, name="   ")

    client.force_login(user)
    response = client.post(
        reverse("accounts:token_create"), {"name": "three", "scopes": ["classify"]}
    )
    assert response.status_code == 400
    assert "Revoke one first" in response.content.decode()
    assert ApiToken.objects.filter(user=user).count() == 2


def test_token_pages_need_login(client):
    for url in (reverse("accounts:token_create"), reverse("accounts:token_revoke_all")):
        response = client.post(url, {"name": "x"})
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    response = client.get(reverse("accounts:token_created"))
    assert response.status_code == 302
