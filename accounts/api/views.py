from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import MeSerializer
from accounts.scopes import ANY_SCOPE


class MeApi(APIView):
    """Who the request is authenticated as: a quick way to test a token."""

    required_scope = ANY_SCOPE

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user, context={"request": request}).data)
