"""The Webhooks pages: add an endpoint (its secret shown once), its delivery
log, the test-event button, turning it off, deleting it; nobody else's."""

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.webhooks.receiver import receive
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _add(client, url, events=("batch.finished",)):
    return client.post(reverse("webhooks:list"), {"url": url, "events": list(events)})


def test_the_profile_links_to_webhooks(signed_in):
    page = signed_in.get(reverse("accounts:profile")).content.decode()
    assert reverse("webhooks:list") in page


def test_add_an_endpoint_and_see_its_secret_once(signed_in, stand_in):
    response = _add(signed_in, stand_in.url("/hook"), ["batch.finished", "training.finished"])
    assert response.status_code == 303 and response["Location"] == reverse("webhooks:created")
    endpoint = WebhookEndpoint.objects.get()
    page = signed_in.get(reverse("webhooks:created")).content.decode()
    assert endpoint.secret in page
    again = signed_in.get(reverse("webhooks:created")).content.decode()
    assert endpoint.secret not in again and 'data-testid="no-secret"' in again
    listing = signed_in.get(reverse("webhooks:list")).content.decode()
    assert stand_in.url("/hook") in listing and "A training run finished" in listing
    assert endpoint.secret not in listing


def test_a_refused_address_is_explained_in_spanish(signed_in, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    signed_in.cookies["django_language"] = "es"
    response = signed_in.post(
        reverse("webhooks:list"),
        {"url": "https://192.168.0.10/hook", "events": ["batch.finished"]},
    )
    assert response.status_code == 400
    assert "red privada" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_send_a_test_event_and_read_the_log(signed_in, user, stand_in):
    route, seen = receive(stand_in, "/hook", answers=[500])
    _add(signed_in, stand_in.url("/hook"))
    endpoint = WebhookEndpoint.objects.get()
    route.secret = endpoint.secret
    detail = reverse("webhooks:detail", args=[endpoint.pk])
    assert "Nothing was sent" in signed_in.get(detail).content.decode()
    response = signed_in.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert response.status_code == 302
    assert seen and seen[0][0] and seen[0][1]["type"] == "webhook.test"
    page = signed_in.get(detail).content.decode()
    assert "webhook.test" in page and "500" in page


def test_turn_off_and_delete(signed_in, stand_in):
    _add(signed_in, stand_in.url("/hook"))
    endpoint = WebhookEndpoint.objects.get()
    signed_in.post(reverse("webhooks:active", args=[endpoint.pk]), {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.active
    signed_in.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.exists()


def test_another_users_endpoint_is_not_found(client, stand_in):
    owner, other = UserFactory(), UserFactory()
    client.force_login(owner)
    _add(client, stand_in.url("/hook"))
    endpoint = WebhookEndpoint.objects.get()
    client.force_login(other)
    for name in ("detail",):
        assert client.get(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 404
    for name in ("test", "active", "delete"):
        assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).exists()
