from django.db.models import QuerySet

from accounts.models import User
from webhooks.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list_for_user(*, user: User) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user)


def webhook_delivery_list_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint)
