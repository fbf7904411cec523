"""Registering endpoints, emitting events, and delivering them (in workers)."""

import json
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.fetch import FetchError, fetch, url_check
from core.jobs import job_claim, job_finish, job_release, retry_delay, worker_name
from webhooks import signing
from webhooks.models import TEST_EVENT, Event, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

LOG_ENTRIES = 20  # attempts kept in a delivery's log
RESPONSE_BYTES = 4096  # of a receiver's answer: read, then dropped
# A refused or malformed address will not get better by waiting.
PERMANENT = {"url_refused", "url_invalid"}


# Endpoints (in the request)
# ------------------------------------------------------------------------------


def _events_clean(events) -> list[str]:
    wanted = [event for event in Event.values if event in set(events or [])]
    unknown = set(events or []) - set(Event.values)
    if unknown or not wanted:
        raise ApplicationError(
            _("Choose one or more events among: %(events)s.") % {"events": ", ".join(Event.values)},
            code="invalid_events",
        )
    return wanted


def _url_clean(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 500:
        raise ApplicationError(_("The address is longer than 500 characters."), code="url_invalid")
    url_check(url)  # the same guard as at delivery: public https addresses only
    return url


def webhook_endpoint_create(
    *, user: User, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the only time the secret is returned)."""
    url, events = _url_clean(url), _events_clean(events)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if WebhookEndpoint.objects.filter(user=user).count() >= settings.WEBHOOK_ENDPOINTS_PER_USER:
            raise ApplicationError(
                _("You can register at most %(max)d webhook endpoints.")
                % {"max": settings.WEBHOOK_ENDPOINTS_PER_USER},
                code="too_many_webhooks",
            )
        secret = signing.secret_new()
        endpoint = WebhookEndpoint.objects.create(
            user=user, url=url, events=events, description=description[:200], secret=secret
        )
    return endpoint, secret


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = _url_clean(url)
    if events is not None:
        endpoint.events = _events_clean(events)
    if description is not None:
        endpoint.description = description[:200]
    if active is not None:
        endpoint.active = active
    endpoint.save()
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()  # its deliveries go with it; a queued one finds nothing to do


def webhook_test_send(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint, whatever events it wants."""
    data = {"endpoint": endpoint.pk, "message": "This is a test event from Picsort."}
    (delivery,) = _deliveries_create([endpoint], event=TEST_EVENT, data=data)
    return delivery


# Events (when a job ends)
# ------------------------------------------------------------------------------


def webhook_event_emit(
    *, user_id: int, event: str, data: dict, language: str = "en"
) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the user that wants this event."""
    endpoints = WebhookEndpoint.objects.filter(user_id=user_id, active=True)
    wanted = [endpoint for endpoint in endpoints if event in endpoint.events]
    if not wanted:
        return []
    return _deliveries_create(wanted, event=event, data=data, language=language)


def _deliveries_create(endpoints, *, event: str, data: dict, language: str | None = None):
    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "type": event, "created": int(time.time()), "data": data}
    with transaction.atomic():
        deliveries = [
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event=event,
                event_id=event_id,
                payload=payload,
                language=language or get_language() or "en",
            )
            for endpoint in endpoints
        ]
        for delivery in deliveries:
            transaction.on_commit(delivery.enqueue, robust=True)
    return deliveries


def on_job_ended(sender, job, **kwargs) -> None:
    """``core.jobs.job_ended``: a batch or training run's end becomes an event.
    A webhook problem never disturbs the job that ended."""
    event = job.webhook_events.get(job.status)
    user_id = getattr(job, "user_id", None)
    if not event or user_id is None:
        return
    try:
        webhook_event_emit(
            user_id=user_id,
            event=event,
            data=job.webhook_data(),
            language=getattr(job, "language", "") or "en",
        )
    except Exception:
        logger.exception("could not emit %s for %s", event, job)


# Delivering (in workers)
# ------------------------------------------------------------------------------


def webhook_delivery_run(*, delivery_id: int, worker: str | None = None) -> WebhookDelivery | None:
    """One attempt: POST the signed event. 2xx ends the delivery; anything else
    is retried after a backoff until WEBHOOK_MAX_ATTEMPTS."""
    worker = worker or worker_name()
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or not job_claim(job=delivery, worker=worker):
        return None
    with translation.override(delivery.language):
        status_code, error, code = _attempt(delivery)
    entry = {
        "attempt": delivery.attempts,
        "at": timezone.now().isoformat(),
        "status_code": status_code,
        "error": error,
    }
    fields = {"response_status": status_code, "log": [*delivery.log, entry][-LOG_ENTRIES:]}
    if not error:
        job_finish(
            job=delivery, worker=worker, status=delivery.Status.SUCCEEDED, error="", **fields
        )
    elif code in PERMANENT or delivery.attempts >= delivery.max_attempts():
        job_finish(
            job=delivery, worker=worker, status=delivery.Status.FAILED, error=error, **fields
        )
    else:
        delay = retry_delay(
            delivery.attempts,
            base=settings.WEBHOOK_RETRY_BASE_SECONDS,
            cap=settings.WEBHOOK_RETRY_MAX_SECONDS,
        )
        job_release(job=delivery, worker=worker, delay=delay, error=error, **fields)
    delivery.refresh_from_db()
    return delivery


def _attempt(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """(status code, error, error code); no error for a 2xx answer."""
    endpoint = delivery.endpoint
    if not endpoint.active:
        return None, _("The endpoint is turned off."), "url_invalid"
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.signature_header(
            secret=endpoint.secret, timestamp=int(time.time()), body=body
        ),
        "Picsort-Event": delivery.event,
        "Picsort-Delivery": str(delivery.event_id),
    }
    try:
        answer = fetch(
            endpoint.url,
            method="POST",
            body=body,
            headers=headers,
            follow_redirects=False,  # a receiver answers; it does not send us elsewhere
            truncate=True,
            max_bytes=RESPONSE_BYTES,
            seconds=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except FetchError as error:
        return None, str(error.message), error.code
    if 200 <= answer.status < 300:
        return answer.status, "", ""
    message = _("The receiver answered with HTTP status %(status)d.") % {"status": answer.status}
    return answer.status, message, "http_status"
