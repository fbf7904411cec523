"""One JSON error shape for the whole API, with translated messages."""

import pytest
from django.urls import path
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.exceptions import ApplicationError


class _Serializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1)


class _Api(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        _Serializer(data=request.data).is_valid(raise_exception=True)
        raise ApplicationError(_("Page not found"), code="gone", status=410, extra={"id": 3})

    def delete(self, request):
        from django.http import Http404

        raise Http404

    def put(self, request):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied


urlpatterns = [path("thing/", _Api.as_view())]
pytestmark = [pytest.mark.urls("tests.core.test_api_errors"), pytest.mark.django_db]


def test_validation_errors(api_client):
    response = api_client.post("/thing/", {"count": 0}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "greater than or equal to 1" in error["message"]
    assert "count" in error["details"]


def test_application_error_keeps_code_status_and_language(api_client):
    response = api_client.post("/thing/", {"count": 2}, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 410
    assert response.json() == {
        "error": {"code": "gone", "message": "Página no encontrada", "details": {"id": 3}}
    }


def test_django_404_and_403_use_the_same_shape(api_client):
    response = api_client.delete("/thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = api_client.put("/thing/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_method_not_allowed_keeps_allow_header(api_client):
    response = api_client.get("/thing/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]
