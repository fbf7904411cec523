"""Webhook endpoints, their signed deliveries and retries (services and API),
against a real receiver on a local server. Tasks run inline here; the
worker-process test is test_webhook_worker.py."""

import time

import pytest

from tests.accounts.factories import UserFactory
from tests.webhooks.receiver import receive
from webhooks import services
from webhooks.models import WebhookDelivery
from webhooks.signing import signature_header, signature_verify

pytestmark = pytest.mark.django_db(transaction=True)  # deliveries leave after the commit
API = "/api/v1/webhooks/"


@pytest.fixture
def client_a(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def _register(client, url, events=("batch.finished", "training.failed")):
    response = client.post(API, {"url": url, "events": list(events)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_register_shows_the_secret_once(client_a, stand_in):
    body = _register(client_a, stand_in.url("/hook"))
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["batch.finished", "training.failed"]
    listed = client_a.get(API).json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0] and "secret" not in client_a.get(f"{API}{body['id']}/").json()
    other = UserFactory()
    client_a.force_authenticate(other)
    assert client_a.get(f"{API}{body['id']}/").status_code == 404
    assert client_a.get(f"{API}{body['id']}/deliveries/").status_code == 404
    assert client_a.post(f"{API}{body['id']}/test/").status_code == 404
    assert client_a.get(API).json()["results"] == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://10.0.0.1/hook", "url_refused"),
        ("https://169.254.169.254/latest/", "url_refused"),
        ("https://[::1]/hook", "url_refused"),
        ("https://localhost/hook", "url_refused"),
        ("http://93.184.215.14/hook", "url_invalid"),
    ],
)
def test_private_and_plain_addresses_are_refused_at_registration(client_a, settings, url, code):
    settings.FETCH_ALLOWED_NETWORKS = []
    response = client_a.post(API, {"url": url, "events": ["batch.finished"]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_events_must_be_known(client_a, stand_in):
    for events in ([], ["batch.started"]):
        response = client_a.post(API, {"url": stand_in.url("/h"), "events": events}, format="json")
        assert response.status_code == 400


def test_a_test_event_is_signed_and_logged(client_a, stand_in):
    route, seen = receive(stand_in, "/hook")
    endpoint = _register(client_a, stand_in.url("/hook"))
    route.secret = endpoint["secret"]
    response = client_a.post(f"{API}{endpoint['id']}/test/")
    assert response.status_code == 202
    ((verified, event),) = seen
    assert (
        verified and event["type"] == "webhook.test" and event["data"]["endpoint"] == endpoint["id"]
    )
    (request,) = stand_in.received("/hook")
    assert request.headers["Picsort-Event"] == "webhook.test"
    assert request.headers["Picsort-Delivery"] == event["id"]
    (delivery,) = client_a.get(endpoint["deliveries_url"]).json()["results"]
    assert delivery["status"] == "succeeded" and delivery["response_status"] == 200
    assert [(a["attempt"], a["status_code"]) for a in delivery["attempts_log"]] == [(1, 200)]


def test_a_500_is_retried_with_backoff_until_the_attempts_run_out(user, stand_in, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0  # inline tasks would not wait anyway
    route, seen = receive(stand_in, "/flaky", answers=[500, 503, 500])
    endpoint, route.secret = services.webhook_endpoint_create(
        user=user, url=stand_in.url("/flaky"), events=["batch.finished"]
    )
    delivery = services.webhook_test_send(endpoint=endpoint)
    delivery.refresh_from_db()
    assert len(seen) == 3 and all(verified for verified, _event in seen)
    assert delivery.status == "failed" and delivery.attempts == 3
    assert [a["status_code"] for a in delivery.log] == [500, 503, 500]
    assert "503" in delivery.log[1]["error"] and "500" in delivery.error


def test_a_retry_after_a_500_succeeds(user, stand_in, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    route, seen = receive(stand_in, "/once", answers=[500, 200])
    endpoint, route.secret = services.webhook_endpoint_create(
        user=user, url=stand_in.url("/once"), events=["batch.finished"]
    )
    delivery = services.webhook_test_send(endpoint=endpoint)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 2, 200)
    assert seen[0][1]["id"] == seen[1][1]["id"]  # the same event, sent again


def test_backoff_grows_between_attempts(user, stand_in, settings):
    """With the database queue, a failed attempt waits before it may run again."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receive(stand_in, "/down", answers=[500])
    endpoint, _secret = services.webhook_endpoint_create(
        user=user, url=stand_in.url("/down"), events=["batch.finished"]
    )
    delivery = services.webhook_test_send(endpoint=endpoint)
    waits = []
    for _attempt in range(3):
        before = time.time()
        services.webhook_delivery_run(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "queued"
        waits.append(delivery.runnable_at.timestamp() - before)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(runnable_at=delivery.created_at)
    assert 25 < waits[0] < waits[1] < waits[2]
    assert waits[2] > 3 * waits[0]


def test_an_address_that_turns_private_is_refused_at_delivery(user, stand_in, settings):
    receive(stand_in, "/hook")
    endpoint, _secret = services.webhook_endpoint_create(
        user=user, url=stand_in.url("/hook"), events=["batch.finished"]
    )
    settings.FETCH_ALLOWED_NETWORKS = []  # 127.0.0.1 is what a rebinding name would give
    delivery = services.webhook_test_send(endpoint=endpoint)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)  # no use retrying
    assert "private network" in delivery.error
    assert stand_in.requests == []


def test_a_failed_training_run_is_an_event(user, stand_in, imagenet_model):
    from training import services as training
    from training.models import TrainingRun
    from training.services.job import training_run

    route, seen = receive(stand_in, "/hook")
    _endpoint, route.secret = services.webhook_endpoint_create(
        user=user, url=stand_in.url("/hook"), events=["training.failed"]
    )
    classifier = training.classifier_create(user=user, name="Soils", class_names=["a", "b"])
    # Its examples were deleted after the run was queued: the worker fails it.
    run = TrainingRun.objects.create(
        classifier=classifier,
        user=user,
        number=1,
        snapshot={"names": ["a", "b"], "examples": [[998], [999]]},
    )
    training_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    ((verified, event),) = seen
    assert verified and event["type"] == "training.failed"
    assert event["data"]["id"] == run.pk and event["data"]["error"] == run.error
    assert event["data"]["url"] == f"/api/v1/training-runs/{run.pk}/"


def test_an_endpoint_that_does_not_want_the_event_gets_nothing(user, stand_in):
    receive(stand_in, "/hook")
    services.webhook_endpoint_create(user=user, url=stand_in.url("/hook"), events=["batch.failed"])
    assert services.webhook_event_emit(user_id=user.pk, event="batch.finished", data={}) == []
    assert stand_in.requests == []


def test_signatures():
    body = b'{"type":"batch.finished"}'
    now = int(time.time())
    header = signature_header(secret="whsec_a", timestamp=now, body=body)
    assert signature_verify(secret="whsec_a", header=header, body=body, now=now)
    assert not signature_verify(secret="whsec_b", header=header, body=body, now=now)
    assert not signature_verify(secret="whsec_a", header=header, body=body + b" ", now=now)
    assert not signature_verify(secret="whsec_a", header=header, body=body, now=now + 3600)
    assert not signature_verify(secret="whsec_a", header="garbage", body=body, now=now)
