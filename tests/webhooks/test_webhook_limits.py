"""Who may manage webhooks and how often a test event may be sent: a token
limited to one classifier is refused (the endpoints hear of the whole
account); test events share one rate limit between the page and the API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services as accounts
from training import services as training
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
API = "/api/v1/webhooks/"


def _client(user, **kwargs) -> APIClient:
    _token, key = accounts.api_token_create(user=user, name="t", **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def endpoint(user, stand_in):
    endpoint, _secret = services.webhook_endpoint_create(
        user=user, url=stand_in.url("/hook"), events=["batch.finished"]
    )
    return endpoint


def test_a_token_limited_to_a_classifier_may_not_manage_webhooks(user, endpoint, stand_in):
    soils = training.classifier_create(user=user, name="Soils", class_names=["a", "b"])
    limited = _client(user, classifier=soils)
    base = f"{API}{endpoint.pk}/"
    answers = [
        limited.get(API),
        limited.post(API, {"url": stand_in.url("/x"), "events": ["batch.finished"]}, format="json"),
        limited.get(base),
        limited.patch(base, {"active": False}, format="json"),
        limited.get(base + "deliveries/"),
        limited.post(base + "test/"),
        limited.delete(base),
    ]
    for response in answers:
        assert response.status_code == 403, response.json()
        error = response.json()["error"]
        assert error["code"] == "classifier_not_allowed" and error["classifier"] == soils.pk
        assert "Soils" in error["message"]
    endpoint.refresh_from_db()
    assert endpoint.active and not WebhookDelivery.objects.exists()
    # The same owner's unlimited token manages them.
    assert _client(user, scopes=["classify"]).get(base).status_code == 200


def test_test_events_are_rate_limited_in_the_api(user, endpoint, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "webhook_test": "2/hour"}
    client = _client(user, scopes=["classify"])
    url = f"{API}{endpoint.pk}/test/"
    assert [client.post(url).status_code for _ in range(2)] == [202, 202]
    refused = client.post(url)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0
    assert WebhookDelivery.objects.count() == 2


def test_the_page_and_the_api_share_the_test_event_limit(user, endpoint, settings, client):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "webhook_test": "2/hour"}
    assert _client(user, scopes=["classify"]).post(f"{API}{endpoint.pk}/test/").status_code == 202
    client.force_login(user)
    client.cookies["django_language"] = "es"
    send = reverse("webhooks:test", args=[endpoint.pk])
    assert client.post(send).status_code == 302
    page = client.post(send, follow=True).content.decode()
    assert "Demasiadas peticiones de este tipo" in page
    assert WebhookDelivery.objects.count() == 2


def test_the_default_limit_is_small():
    from django.conf import settings

    from core.ratelimits import parse_rate

    count, seconds = parse_rate(settings.RATE_LIMITS["webhook_test"])
    assert count / seconds * 3600 <= 60  # at most one a minute on average
