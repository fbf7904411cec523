"""Probes for orchestrators: ``/healthz`` (the process is up) and ``/readyz``
(it can serve right now: the database answers and every registered check
passes). Apps register their checks from ``AppConfig.ready`` (classification:
the default model loads), so ``core`` imports no app."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

_checks: dict[str, Callable[[], str]] = {}


def register_readiness_check(name: str, check: Callable[[], str]) -> None:
    """``check()`` returns a short description when ready and raises otherwise."""
    _checks[name] = check


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving; nothing else is asked (a database outage
    must not make the orchestrator restart healthy processes)."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and every registered check passes; else 503
    with the reason of the first failure."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready", with the reason
        checks["database"] = f"error: {type(error).__name__}"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    for name, check in _checks.items():
        try:
            checks[name] = check()
        except Exception as error:
            checks[name] = f"error: {error}"
            return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
