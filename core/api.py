"""The single JSON error shape of the REST API.

Every error answers ``{"error": {"code": ..., "message": ..., "details": ...}}``
with a machine-readable code and a message in the request's language.
"""

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_message(next(iter(detail.values())))
    return str(detail)


def error_response(*, code: str, message: str, status_code: int, details=None) -> Response:
    body: dict = {"code": code, "message": str(message)}
    if details:
        body["details"] = details
    return Response({"error": body}, status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        response = error_response(
            code=exc.code, message=exc.message, status_code=exc.status, details=exc.extra
        )
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if isinstance(exc, OverflowError | DataError):
        # A number too large for the database in a query parameter or body.
        return error_response(
            code="invalid",
            message=_("A number in the request is out of range."),
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            code="invalid",
            message=_first_message(exc.detail),
            status_code=status.HTTP_400_BAD_REQUEST,
            details=exc.detail,
        )
    detail = getattr(exc, "detail", "")
    code = detail.code if hasattr(detail, "code") else getattr(exc, "default_code", "error")
    error = error_response(
        code=code, message=_first_message(detail), status_code=response.status_code
    )
    # Fields an exception adds beside code and message (such as a missing scope).
    error.data["error"].update(getattr(exc, "error_fields", {}))
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            error[header] = response[header]
    return error
