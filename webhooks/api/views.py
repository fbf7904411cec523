from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.scopes import Scope, token_refuse_classifier_limited
from core.ratelimits import rate_limit_hit
from webhooks import selectors, services
from webhooks.api import serializers as s

# Any token that can start the jobs these events are about, unless it is
# limited to one classifier: the endpoints hear of the whole account.
WEBHOOK_SCOPES = (Scope.CLASSIFY, Scope.CLASSIFIERS_MANAGE)


class _WholeAccount:
    """Refuses a token limited to one classifier (403 classifier_not_allowed)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        token_refuse_classifier_limited(request)


def _endpoint(request, pk: int):
    return get_object_or_404(selectors.webhook_endpoint_list_for_user(user=request.user), pk=pk)


class WebhookListApi(_WholeAccount, generics.ListAPIView):
    """Your webhook endpoints (GET), or register one (POST) -> 201 with its secret."""

    required_scope = WEBHOOK_SCOPES
    serializer_class = s.WebhookEndpointSerializer
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.webhook_endpoint_list_for_user(user=self.request.user)

    @extend_schema(
        request=s.WebhookEndpointSerializer,
        responses={201: s.WebhookEndpointCreatedSerializer},
        description=(
            "Register an endpoint for some of `batch.finished`, `batch.failed`, "
            "`training.finished` and `training.failed`. The address must be a public https "
            "address (checked now and at every delivery). The answer holds the `secret` that "
            "signs deliveries (`Picsort-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "
            '"<t>.<body>">`); it is never shown again.'
        ),
    )
    def post(self, request):
        payload = s.WebhookEndpointSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(
            user=request.user,
            url=payload.validated_data["url"],
            events=payload.validated_data["events"],
            description=payload.validated_data.get("description", ""),
        )
        endpoint.secret = secret
        body = s.WebhookEndpointCreatedSerializer(endpoint).data
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDetailApi(_WholeAccount, generics.RetrieveDestroyAPIView):
    """One endpoint: read it, change it (PATCH), or delete it with its log (DELETE)."""

    required_scope = WEBHOOK_SCOPES
    serializer_class = s.WebhookEndpointSerializer
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.webhook_endpoint_list_for_user(user=self.request.user)

    @extend_schema(request=s.WebhookEndpointUpdateSerializer, responses=s.WebhookEndpointSerializer)
    def patch(self, request, pk: int):
        payload = s.WebhookEndpointUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            endpoint=_endpoint(request, pk), **payload.validated_data
        )
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(endpoint=instance)


class WebhookDeliveryListApi(_WholeAccount, generics.ListAPIView):
    """An endpoint's deliveries, newest first: each attempt's status code and error."""

    required_scope = WEBHOOK_SCOPES
    serializer_class = s.WebhookDeliverySerializer

    def get_queryset(self):
        endpoint = _endpoint(self.request, self.kwargs["pk"])
        return selectors.webhook_delivery_list_for_endpoint(endpoint=endpoint)


class WebhookTestApi(_WholeAccount, generics.GenericAPIView):
    """Send a `webhook.test` event to the endpoint now -> 202 with the delivery."""

    required_scope = WEBHOOK_SCOPES
    serializer_class = s.WebhookDeliverySerializer

    @extend_schema(
        request=None,
        responses={202: s.WebhookDeliverySerializer},
        description=(
            "Send a `webhook.test` event now. At most DJANGO_THROTTLE_WEBHOOK_TEST a user "
            "(pages and API together): past it, 429 `rate_limited` with `Retry-After`."
        ),
    )
    def post(self, request, pk: int):
        endpoint = _endpoint(request, pk)
        rate_limit_hit(action="webhook_test", user=request.user)
        delivery = services.webhook_test_send(endpoint=endpoint)
        delivery.refresh_from_db()
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
