"""Readiness: can this process serve classifications right now?"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from classification import inference
from models_registry.selectors import model_version_for_alias


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and the default model loads; else 503."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready", with the reason
        checks["database"] = f"error: {type(error).__name__}"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    try:
        version = model_version_for_alias(alias="default")
        if version is None:
            raise LookupError("no default model")
        inference.sessions.get(version)
        checks["model"] = str(version)
    except Exception as error:
        checks["model"] = f"error: {error}"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
