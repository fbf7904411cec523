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
    try:
        used = _count(f"ratelimit:{action}:user:{user.pk}:{window}", period)
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


def _count(cache_key: str, period: int) -> int:
    """One more use in a fixed window: one INCR in the common case."""
    try:
        return cache.incr(cache_key)
    except ValueError:  # the first use in this window
        return 1 if cache.add(cache_key, 1, timeout=period + 1) else cache.incr(cache_key)


class _FixedWindow:
    """DRF's throttles, counted like ``rate_limit_hit``: one INCR per request
    in a fixed window, where DRF reads and writes back the list of every
    request's time in the window (two round trips, and a list as long as the
    limit to unpickle and pickle each time). Open rather than failing every
    API request while the cache (Redis) cannot be reached; a warning says so."""

    def allow_request(self, request, view):
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self._retry_after = (window + 1) * self.duration - now
        try:
            return _count(f"{key}:{window}", self.duration) <= self.num_requests
        except Exception:
            logger.warning("API throttle not counted: the cache is unavailable", exc_info=True)
            return True

    def wait(self):
        return self._retry_after


class UserRateThrottle(_FixedWindow, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(_FixedWindow, throttling.AnonRateThrottle):
    pass
