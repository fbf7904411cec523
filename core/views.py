from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving. Readiness (database, model) comes later."""
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """404: under /api/ in the API's error shape, elsewhere the site's page."""
    from django.utils.translation import gettext as _

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "not_found", "message": _("Not found.")}}, status=404
        )
    return render(request, "404.html", status=404)
