"""Webhooks: a user's endpoints, told when their jobs end.

A ``WebhookEndpoint`` is an https address the user registered, the events it
wants and a secret (shown once) that signs every delivery. When a batch or a
training run ends (``core.jobs.job_ended``), each of its user's endpoints that
wants that event gets a ``WebhookDelivery``: a leased job on the ``default``
queue that POSTs the event, signed, and is retried with backoff until the
receiver answers 2xx or the attempts run out. Every attempt is logged.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.models import LeasedJob, TimeStampedModel


class Event(models.TextChoices):
    BATCH_FINISHED = "batch.finished", _("A batch finished")
    BATCH_FAILED = "batch.failed", _("A batch failed")
    TRAINING_FINISHED = "training.finished", _("A training run finished")
    TRAINING_FAILED = "training.failed", _("A training run failed")


TEST_EVENT = "webhook.test"


class WebhookEndpoint(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("user"),
    )
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Signs deliveries; shown to the user once, when the endpoint is created.
    secret = models.CharField(_("secret"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def event_labels(self) -> list[str]:
        labels = dict(Event.choices)
        return [str(labels.get(event, event)) for event in self.events]


class WebhookDelivery(LeasedJob):
    """One event for one endpoint, retried until a 2xx or out of attempts."""

    lease_setting = "WEBHOOK_LEASE_SECONDS"
    attempts_setting = "WEBHOOK_MAX_ATTEMPTS"
    gave_up_message = gettext_noop("The delivery stopped %(count)d times without finishing.")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.CharField(_("event"), max_length=50)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, editable=False)
    payload = models.JSONField(_("payload"), default=dict)
    response_status = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    # Every attempt: [{"attempt", "at", "status_code", "error"}]
    log = models.JSONField(_("attempts"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint_id} ({self.status})"

    def enqueue(self, *, delay: float = 0) -> None:
        from core.jobs import enqueue_later
        from webhooks.tasks import webhook_delivery_task

        enqueue_later(webhook_delivery_task, self.pk, delay=delay)
