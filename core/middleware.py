"""While the database is unreachable, answer 503 with a clear message, not a 500."""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Errors that mean "cannot reach the database" rather than "bad query".
_CONNECTION_ERRORS = (OperationalError, InterfaceError)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, _CONNECTION_ERRORS) or not _looks_like_connection(exception):
            return None
        logger.warning("database unavailable: %s", exception)
        message = _("The service is briefly unavailable. Please try again in a moment.")
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"error": {"code": "service_unavailable", "message": message}}, status=503
            )
        else:
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = "5"
        return response


def _looks_like_connection(exception: DatabaseError) -> bool:
    text = str(exception).lower()
    markers = ("connect", "connection", "server closed", "terminating", "unable to open", "timeout")
    return isinstance(exception, InterfaceError) or any(m in text for m in markers)
