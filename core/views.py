from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    from core.landing import landing_example

    return render(request, "core/home.html", {"example": landing_example()})


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """404: under /api/ in the API's error shape, elsewhere the site's page."""
    from django.utils.translation import gettext as _

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "not_found", "message": _("Not found.")}}, status=404
        )
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: under /api/ in the API's error shape (a client parsing JSON never
    gets an HTML page), elsewhere the site's page."""
    from django.utils.translation import gettext as _
    from django.views.defaults import server_error as page

    if request.path.startswith("/api/"):
        message = _("Something went wrong on our side; please try again later.")
        return JsonResponse({"error": {"code": "server_error", "message": message}}, status=500)
    return page(request)
