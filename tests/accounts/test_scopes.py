"""Scoped API tokens: what a token may do, its expiry, and the one place every
API view declares the scope it needs."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.views import APIView

from accounts import services
from accounts.models import ApiToken
from accounts.scopes import ANY_SCOPE, Scope, TokenHasScope, declared_scopes
from core.exceptions import ApplicationError
from tests.accounts.factories import UserFactory
from tests.conftest import photo

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


def _bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _api_views(resolver=None, prefix=""):
    """(route, view class) of every route under /api/v1/."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            view = getattr(pattern.callback, "view_class", None) or getattr(
                pattern.callback, "cls", None
            )
            yield route, view


def _undeclared(route: str, view) -> list[str]:
    """What is wrong with a view's scope declaration (empty: nothing)."""
    if view is None or not issubclass(view, APIView):
        return [f"{route}: not a DRF view"]
    instance = view()
    problems = []
    if not any(isinstance(p, TokenHasScope) for p in instance.get_permissions()):
        problems.append(f"{route}: TokenHasScope is not among its permission classes")
    for method in METHODS:
        if not hasattr(view, method):
            continue
        scopes = declared_scopes(instance, method)
        if not scopes:
            problems.append(f"{route} {method.upper()}: no required_scope")
        elif any(scope not in Scope.values and scope != ANY_SCOPE for scope in scopes):
            problems.append(f"{route} {method.upper()}: unknown scope in {scopes}")
    return problems


def test_every_api_view_declares_the_scope_each_method_needs():
    views = list(_api_views())
    assert len(views) > 30  # the walk found the API
    problems = [problem for route, view in views for problem in _undeclared(route, view)]
    assert problems == []


def test_the_walk_catches_a_view_without_a_scope():
    class Forgotten(APIView):
        def get(self, request):
            raise AssertionError

    class Partly(APIView):
        required_scope = {"GET": Scope.CLASSIFY}
        permission_classes = []

        def get(self, request):
            raise AssertionError

        def post(self, request):
            raise AssertionError

    assert _undeclared("forgotten", Forgotten) == ["forgotten GET: no required_scope"]
    assert _undeclared("partly", Partly) == [
        "partly: TokenHasScope is not among its permission classes",
        "partly POST: no required_scope",
    ]


def test_a_token_without_the_scope_gets_403_naming_it(api_client, user):
    _token, key = services.api_token_create(user=user, name="camera", scopes=["classify"])
    response = api_client.get("/api/v1/classifications/", **_bearer(key))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "missing_scope" and error["scope"] == "history:read"
    assert error["message"].startswith("This token may not read your history.")

    spanish = api_client.get("/api/v1/classifiers/", HTTP_ACCEPT_LANGUAGE="es", **_bearer(key))
    assert spanish.json()["error"]["scope"] == "classifiers:manage"
    assert "Este token no puede gestionar sus clasificadores" in spanish.json()["error"]["message"]


def test_a_token_with_the_scope_is_let_through(api_client, user, imagenet_model):
    _token, key = services.api_token_create(user=user, name="reader", scopes=["history:read"])
    assert api_client.get("/api/v1/classifications/", **_bearer(key)).status_code == 200
    assert api_client.get("/api/v1/me/", **_bearer(key)).status_code == 200  # any token
    refused = api_client.post(
        "/api/v1/classifications/", {"file": [_upload()]}, format="multipart", **_bearer(key)
    )
    assert refused.status_code == 403 and refused.json()["error"]["scope"] == "classify"


def test_a_browser_session_is_not_limited_by_scopes(client, user):
    client.force_login(user)
    for url in ("/api/v1/classifications/", "/api/v1/classifiers/", "/api/v1/models/"):
        assert client.get(url).status_code == 200, url


def test_registry_admin_is_for_staff_only(api_client, user, imagenet_model):
    with pytest.raises(ApplicationError) as error:
        services.api_token_create(user=user, name="x", scopes=["classify", "registry:admin"])
    assert error.value.code == "scope_not_allowed" and error.value.status == 403
    assert not ApiToken.objects.filter(user=user).exists()

    staff = UserFactory(is_staff=True)
    _t, reader = services.api_token_create(user=staff, name="read", scopes=["classify"])
    _t, admin = services.api_token_create(user=staff, name="admin", scopes=["registry:admin"])
    url = reverse("api:alias-activate", args=["fast"])
    refused = api_client.post(url, {"version": imagenet_model.pk}, **_bearer(reader))
    assert refused.status_code == 403 and refused.json()["error"]["scope"] == "registry:admin"
    assert api_client.post(url, {"version": imagenet_model.pk}, **_bearer(admin)).status_code == 200

    # A staff scope stops working when its owner stops being staff.
    staff.is_staff = False
    staff.save()
    response = api_client.get("/api/v1/models/", **_bearer(admin))
    assert response.status_code == 403 and response.json()["error"]["code"] == "missing_scope"


def test_tokens_get_every_scope_their_owner_may_have_by_default(user):
    token, _key = services.api_token_create(user=user, name="old style")
    assert token.scopes == ["classify", "history:read", "classifiers:manage"]
    staff_token, _key = services.api_token_create(user=UserFactory(is_staff=True), name="s")
    assert staff_token.scopes == [*token.scopes, "registry:admin"]
    with pytest.raises(ApplicationError) as error:
        services.api_token_create(user=user, name="nothing", scopes=[])
    assert error.value.code == "token_scopes_required"


def test_the_migration_gives_existing_tokens_every_scope_of_their_kind(user):
    services.api_token_create(user=user, name="mine")
    services.api_token_create(user=UserFactory(is_staff=True), name="staff")
    ApiToken.objects.update(scopes=[])  # as they were before scopes
    migration = importlib.import_module(
        "accounts.migrations.0005_existing_api_tokens_keep_every_scope"
    )
    migration.every_scope_their_owner_may_have(apps, None)
    assert ApiToken.objects.get(user=user).scopes == [
        "classify",
        "history:read",
        "classifiers:manage",
    ]
    assert "registry:admin" in ApiToken.objects.get(user__is_staff=True).scopes


def test_an_expired_token_is_401_saying_so(api_client, user):
    token, key = services.api_token_create(
        user=user, name="week", expires_at=timezone.now() + timedelta(days=7)
    )
    assert api_client.get("/api/v1/me/", **_bearer(key)).status_code == 200
    token.expires_at = timezone.now() - timedelta(seconds=1)  # as if a week went by
    token.save(update_fields=["expires_at"])
    response = api_client.get("/api/v1/me/", **_bearer(key))
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "token_expired"
    assert error["message"].startswith("This token expired on ") and "profile" in error["message"]
    with pytest.raises(ApplicationError) as refused:
        services.api_token_create(user=user, name="past", expires_at=timezone.now())
    assert refused.value.code == "token_expiry_in_the_past"


def test_me_says_what_the_token_may_do(api_client, user):
    _token, key = services.api_token_create(user=user, name="cli", scopes=["history:read"])
    body = api_client.get("/api/v1/me/", **_bearer(key)).json()
    assert body["token"]["scopes"] == ["history:read"]
    assert body["token"]["classifier"] is None and body["token"]["expires_at"] is None
    api_client.credentials()
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/me/").json()["token"] is None


def test_the_schema_names_each_operations_scope(api_client, user):
    api_client.force_authenticate(user)
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert all("x-token-scopes" in operation for _p, _m, operation in operations)
    history = schema["paths"]["/api/v1/classifications/"]
    assert history["get"]["x-token-scopes"] == ["history:read"]
    assert history["post"]["x-token-scopes"] == ["classify"]
    assert "Token scope: `classify`." in history["post"]["description"]
    described = schema["components"]["securitySchemes"]["bearerAuth"]["description"]
    assert all(f"`{scope}`" in described for scope in Scope.values)


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("coffee.png", photo("coffee.png"))


def test_the_profile_creates_a_scoped_limited_expiring_token(client, user, imagenet_model):
    from tests.accounts.test_token_classifier import _trained

    soils, _version = _trained(user, imagenet_model, "Soils")
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert 'value="classify"' in page and 'value="classifiers:manage"' in page
    assert 'value="registry:admin"' not in page  # not offered to users
    day = (timezone.now() + timedelta(days=30)).date()
    response = client.post(
        reverse("accounts:token_create"),
        {
            "name": "field kit",
            "scopes": ["classify", "history:read"],
            "classifier": soils.pk,
            "expires_on": day.isoformat(),
        },
    )
    assert response.status_code == 303
    token = ApiToken.objects.get(user=user)
    assert token.scopes == ["classify", "history:read"] and token.classifier == soils
    assert token.expires_at.date() == day + timedelta(days=1)  # the end of that day, UTC

    listed = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    row = listed.split('data-testid="token-row"')[1].split("</tr>")[0]
    assert "<code>classify</code> <code>history:read</code>" in row
    assert "Soils" in row and "Caduca" in row

    forged = client.post(
        reverse("accounts:token_create"), {"name": "root", "scopes": ["registry:admin"]}
    )
    assert forged.status_code == 400 and ApiToken.objects.filter(user=user).count() == 1
    empty = client.post(reverse("accounts:token_create"), {"name": "nothing"})
    assert empty.status_code == 400
    assert "Choose at least one thing the token may do." in empty.content.decode()
    past = client.post(
        reverse("accounts:token_create"),
        {"name": "old", "scopes": ["classify"], "expires_on": "2001-01-01"},
    )
    assert past.status_code == 400 and "in the future" in past.content.decode()


def test_staff_are_offered_registry_admin(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert 'value="registry:admin"' in client.get(reverse("accounts:profile")).content.decode()
    client.post(reverse("accounts:token_create"), {"name": "ops", "scopes": ["registry:admin"]})
    assert ApiToken.objects.get(user=staff).scopes == ["registry:admin"]


def test_the_admin_shows_a_tokens_scopes_without_letting_them_change(client, user):
    token, _key = services.api_token_create(user=user, name="kit", scopes=["history:read"])
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listed = client.get(reverse("admin:accounts_apitoken_changelist")).content.decode()
    assert "history:read" in listed
    url = reverse("admin:accounts_apitoken_change", args=[token.pk])
    assert 'name="scopes"' not in client.get(url).content.decode()  # read-only
    client.post(url, {"name": "renamed", "user": user.pk, "scopes": '["registry:admin"]'})
    token.refresh_from_db()
    assert token.scopes == ["history:read"]
