"""The API token cache never brings back a token revoked while a request was
reading it (accounts/token_cache.py)."""

import pytest
from django.core.cache import cache

from accounts import token_cache
from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def _me(api_client, key: str):
    return api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_copy_read_before_a_revocation_is_not_cached_after_it(api_client, user):
    cache.clear()
    token, key = api_token_create(user=user, name="race")
    # A request reads the row from the database (a cache miss) ...
    stale = ApiToken.objects.select_related("user").get(pk=token.pk)
    # ... the owner revokes the token meanwhile ...
    api_token_revoke(user=user, token_id=token.pk)
    # ... and the request then caches what it read, as a miss does.
    token_cache._cache_add(stale)
    token_cache.api_token_remember(stale)
    assert token_cache.api_token_for_digest(digest=stale.key_digest) is None
    assert _me(api_client, key).status_code == 401


def test_a_token_is_cached_again_once_the_marker_expires(api_client, user):
    cache.clear()
    token, key = api_token_create(user=user, name="cached")
    token.name = "renamed"
    token.save()
    assert _me(api_client, key).status_code == 200
    # The save left a "forgotten" marker: the database answered, nothing cached.
    assert cache.get(token_cache._key(token.key_digest)) == token_cache.FORGOTTEN
    cache.delete(token_cache._key(token.key_digest))  # as when it expires
    assert _me(api_client, key).status_code == 200
    assert isinstance(cache.get(token_cache._key(token.key_digest)), ApiToken)


def test_a_stale_cached_copy_of_a_deactivated_owner_is_refused_at_its_next_use(api_client, user):
    cache.clear()
    token, key = api_token_create(user=user, name="stale")
    stale = ApiToken.objects.select_related("user").get(pk=token.pk)
    stale.last_used_at = None  # its next use writes the row and the cache
    # The owner is deactivated behind the ORM's back (no signal, no marker) ...
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    cache.set(token_cache._key(stale.key_digest), stale, 60)  # ... while a copy is cached
    assert _me(api_client, key).status_code == 401
