"""API tokens remembered in the shared cache (Redis in production), so an
authenticated API request costs no database round trip.

A token leaves the cache as soon as it, its owner or its classifier is saved
or deleted through the ORM (revoking is a delete; cascades send the same
signals), so a revoked token stops working at once. Whatever changes behind
the ORM's back (a queryset ``update``) is forgotten within
``TOKEN_CACHE_SECONDS``. The owner's password hash is never loaded, so it is
never cached (Django loads it if something asks for it).

Forgetting leaves a marker for ``FORGOTTEN_SECONDS`` instead of deleting the
entry, and a copy read from the database is only *added*: a request that read
the token just before it was revoked cannot write its old copy back over the
marker. While the marker stands, the token is read from the database.
"""

import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiToken

logger = logging.getLogger(__name__)

TOKEN_CACHE_SECONDS = 60
# long enough for any request that read the row before a change to be done
FORGOTTEN_SECONDS = 10


def _key(digest: str) -> str:
    return f"apitoken:{digest}"


FORGOTTEN = "forgotten"


def _cache_get(digest: str):
    try:
        return cache.get(_key(digest))
    except Exception:  # the cache is away: the database answers
        logger.warning("API token not read from the cache", exc_info=True)
        return FORGOTTEN


def api_token_for_digest(*, digest: str) -> ApiToken | None:
    """The token with this digest, its user and classifier loaded."""
    token = _cache_get(digest)
    if isinstance(token, ApiToken):
        return token
    forgotten = token == FORGOTTEN
    token = (
        ApiToken.objects.select_related("user", "classifier")
        .defer("user__password")
        .filter(key_digest=digest)
        .first()
    )
    if token is not None and not forgotten:
        _cache_add(token)
    return token


def _cache_add(token: ApiToken) -> None:
    """Caches a copy read from the database, unless it was forgotten meanwhile."""
    try:
        cache.add(_key(token.key_digest), token, TOKEN_CACHE_SECONDS)
    except Exception:
        logger.warning("API token not cached", exc_info=True)


def api_token_remember(token: ApiToken) -> None:
    """Caches a token whose database row was just written (its last use)."""
    if _cache_get(token.key_digest) == FORGOTTEN:
        return
    try:
        cache.set(_key(token.key_digest), token, TOKEN_CACHE_SECONDS)
    except Exception:
        logger.warning("API token not cached", exc_info=True)


def api_tokens_forget(digests) -> None:
    digests = list(digests)
    if not digests:
        return
    try:
        cache.set_many({_key(digest): FORGOTTEN for digest in digests}, FORGOTTEN_SECONDS)
    except Exception:  # the cache is away: it forgets by itself within the timeout
        logger.warning("API tokens not marked forgotten in the cache", exc_info=True)


@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
def _token_changed(sender, instance: ApiToken, created: bool = False, **kwargs) -> None:
    if not created:  # nobody can hold an old copy of a new token
        api_tokens_forget([instance.key_digest])


@receiver(post_save, sender=get_user_model())
def _owner_changed(sender, instance, **kwargs) -> None:
    api_tokens_forget(ApiToken.objects.filter(user=instance).values_list("key_digest", flat=True))


@receiver(post_save, sender="training.Classifier")
def _classifier_changed(sender, instance, **kwargs) -> None:
    api_tokens_forget(
        ApiToken.objects.filter(classifier=instance).values_list("key_digest", flat=True)
    )
