"""429 and 503 are tried again after the server's Retry-After, a bounded
number of times; other errors are not retried."""

import json
from email.utils import formatdate
from time import time

import pytest
from django.core.cache import cache
from picsort import Client, PicsortError

from tests.conftest import photo

COFFEE = ("coffee.png", photo("coffee.png"))


@pytest.mark.django_db(transaction=True)
def test_rate_limited_requests_wait_as_long_as_retry_after_says(
    live_server, token, imagenet_model, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "classify": "1/minute"}
    waits: list[float] = []

    def wait_then_reset(seconds: float) -> None:
        waits.append(seconds)
        cache.clear()  # the next window opens: the retry goes through

    with Client(live_server.url, token, sleep=wait_then_reset) as client:
        assert client.classify(COFFEE)[0].ok
        assert client.classify(COFFEE)[0].ok  # refused with 429 once, then served
    assert len(waits) == 1 and 1 <= waits[0] <= 60

    # Still refused after the retries: bounded, then the API's error is raised.
    waits.clear()
    client = Client(live_server.url, token, sleep=waits.append, retries=2)
    with client, pytest.raises(PicsortError) as error:
        client.classify(COFFEE)
    assert error.value.status == 429 and error.value.code == "rate_limited"
    assert len(waits) == 2 and all(1 <= w <= 60 for w in waits)
    assert error.value.retry_after == pytest.approx(waits[-1], abs=1)
    # A long Retry-After is capped by max_retry_wait.
    waits.clear()
    client = Client(live_server.url, token, sleep=waits.append, retries=1, max_retry_wait=0.5)
    with client, pytest.raises(PicsortError):
        client.classify(COFFEE)
    assert waits == [0.5]


def _json(status: int, headers: dict, body: dict):
    return status, {**headers, "Content-Type": "application/json"}, json.dumps(body).encode()


def test_unavailable_is_retried_after_retry_after_then_answers(stand_in):
    """A server briefly unavailable: 503 with a Retry-After in seconds, then
    as an HTTP date, then none, then the answer."""
    unavailable = {"error": {"code": "unavailable", "message": "Try again shortly."}}
    answers = [
        _json(503, {"Retry-After": "3"}, unavailable),
        _json(503, {"Retry-After": formatdate(time() + 30, usegmt=True)}, unavailable),
        _json(503, {}, unavailable),
        _json(200, {}, {"email": "a@example.com"}),
        _json(500, {}, {"error": {"code": "server_error", "message": "Oops."}}),
    ]
    stand_in.routes["/api/v1/me/"] = lambda request: answers.pop(0)
    waits: list[float] = []
    url = stand_in.url("")
    with Client(url, "pst_x", sleep=waits.append) as client:
        assert client.me() == {"email": "a@example.com"}
    assert waits[0] == 3 and 25 <= waits[1] <= 30 and waits[2] == 4  # no header: 2**attempt
    seen = [r.headers.get("Authorization") for r in stand_in.received("/api/v1/me/")]
    assert seen == ["Bearer pst_x"] * 4

    # Other errors are raised at once, with the API's JSON.
    with Client(url, "pst_x", sleep=waits.append) as client, pytest.raises(PicsortError) as e:
        client.me()
    assert e.value.status == 500 and e.value.code == "server_error" and len(waits) == 3


def test_a_server_that_cannot_be_reached_is_a_clear_error(stand_in):
    url = stand_in.url("")
    stand_in.server.shutdown()
    stand_in.server.server_close()
    with Client(url, "pst_x", timeout=5) as client, pytest.raises(PicsortError) as error:
        client.me()
    assert error.value.code == "connection_failed" and url in error.value.message
