"""API tokens remembered in the shared cache (Redis in production), so an
authenticated API request costs no database round trip.

A token leaves the cache as soon as it, its owner or its classifier is saved
or deleted through the ORM (revoking is a delete; cascades send the same
signals), so a revoked token stops working at once. Whatever changes behind
the ORM's back (a queryset ``update``) is forgotten within
``TOKEN_CACHE_SECONDS``. The owner's password hash is never loaded, so it is
never cached (Django loads it if something asks for it).
"""

import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiToken

logger = logging.getLogger(__name__)

TOKEN_CACHE_SECONDS = 60


def _key(digest: str) -> str:
    return f"apitoken:{digest}"


def api_token_for_digest(*, digest: str) -> ApiToken | None:
    """The token with this digest, its user and classifier loaded."""
    try:
        token = cache.get(_key(digest))
    except Exception:  # the cache is away: the database answers
        logger.warning("API token not read from the cache", exc_info=True)
        token = None
    if token is None:
        token = (
            ApiToken.objects.select_related("user", "classifier")
            .defer("user__password")
            .filter(key_digest=digest)
            .first()
        )
        if token is not None:
            api_token_remember(token)
    return token


def api_token_remember(token: ApiToken) -> None:
    try:
        cache.set(_key(token.key_digest), token, TOKEN_CACHE_SECONDS)
    except Exception:
        logger.warning("API token not cached", exc_info=True)


def api_tokens_forget(digests) -> None:
    digests = list(digests)
    if not digests:
        return
    try:
        cache.delete_many([_key(digest) for digest in digests])
    except Exception:  # the cache is away: it forgets by itself within the timeout
        logger.warning("API tokens not removed from the cache", exc_info=True)


@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
def _token_changed(sender, instance: ApiToken, **kwargs) -> None:
    api_tokens_forget([instance.key_digest])


@receiver(post_save, sender=get_user_model())
def _owner_changed(sender, instance, **kwargs) -> None:
    api_tokens_forget(ApiToken.objects.filter(user=instance).values_list("key_digest", flat=True))


@receiver(post_save, sender="training.Classifier")
def _classifier_changed(sender, instance, **kwargs) -> None:
    api_tokens_forget(
        ApiToken.objects.filter(classifier=instance).values_list("key_digest", flat=True)
    )
