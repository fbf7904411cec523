from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(help_text=_("Where events are POSTed: a public https address."))
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices),
        help_text=_("The events this endpoint receives."),
    )
    deliveries_url = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "description", "active", "deliveries_url", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_deliveries_url(self, obj: WebhookEndpoint) -> str:
        return reverse("api:webhook-deliveries", args=[obj.pk])


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=_("Signs every delivery. Shown only in this answer: keep it now."),
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(required=False, max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices), required=False
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    active = serializers.BooleanField(required=False)


class AttemptSerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text=_("The receiver's answer."))
    error = serializers.CharField(help_text=_("Why it failed; empty when it worked."))


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts_log = AttemptSerializer(source="log", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "response_status",
            "error",
            "attempts_log",
            "payload",
            "created_at",
            "finished_at",
            "runnable_at",
        ]
        read_only_fields = fields
