"""One rate limit per action, shared by the pages and the API.

``rate_limit_hit(action="batch", user=user)`` counts one use of the action by
that user in the shared cache (Redis in production, so every web process
counts together) and raises a 429 ``ApplicationError`` past the limit, with the
seconds to wait. The limits are ``settings.RATE_LIMITS`` ("600/minute"...).

Counting is a fixed window per action and user: one ``incr`` per request in the
common case (Redis's INCR is atomic). A burst at a window's edge can reach
twice the rate for a moment; the windows are short, the limits generous.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework import throttling

from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/hour" -> (60, 3600); also "10/m", "5/30s"."""
    count, _slash, period = rate.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :].strip().lower().rstrip("s") or "s"
    unit = {"minute": "m", "second": "s"}.get(unit, unit)
    return int(count), int(digits or 1) * PERIODS[unit]


def rate_limit_hit(*, action: str, user) -> None:
    """Counts one ``action`` by ``user``; 429 past the limit. When the cache
    cannot be reached the request goes through (and a warning is logged): a
    Redis restart must not take the site down with it."""
    rate = settings.RATE_LIMITS.get(action)
    if not rate:
        return
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    cache_key = f"ratelimit:{action}:user:{user.pk}:{window}"
    try:
        try:
            used = cache.incr(cache_key)
        except ValueError:  # the first use in this window
            used = 1 if cache.add(cache_key, 1, timeout=period + 1) else cache.incr(cache_key)
    except Exception:  # the cache is away (Redis restarting): serve rather than fail
        logger.warning("rate limit %s not counted: the cache is unavailable", action, exc_info=True)
        return
    if used > limit:
        wait = max(1, int((window + 1) * period - now + 0.999))
        raise ApplicationError(
            _("Too many requests of this kind; try again in %(seconds)d seconds.")
            % {"seconds": wait},
            code="rate_limited",
            status=429,
            extra={"retry_after": wait},
        )


class _ServeWhenTheCacheIsAway:
    """DRF's throttles, open rather than failing every API request while the
    cache (Redis) cannot be reached; a warning says so."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("API throttle not counted: the cache is unavailable", exc_info=True)
            return True


class UserRateThrottle(_ServeWhenTheCacheIsAway, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(_ServeWhenTheCacheIsAway, throttling.AnonRateThrottle):
    pass
