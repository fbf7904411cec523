"""The client's webhook methods and image URLs, against a live server; the
receiver and the pictures are served by the local stand-in (tests/http_stand_in.py)."""

import pytest

from tests.conftest import photo

pytestmark = pytest.mark.django_db(transaction=True)


def test_webhooks_are_registered_tested_listed_and_removed(picsort, stand_in):
    stand_in.routes["/hook"] = lambda request: (204, {}, b"")
    created = picsort.webhook_create(stand_in.url("/hook"), ["batch.finished"], description="ci")
    assert created["secret"] and created["events"] == ["batch.finished"]
    assert [w["id"] for w in picsort.webhooks()] == [created["id"]]
    assert picsort.webhook(created["id"])["description"] == "ci"
    updated = picsort.webhook_update(created["id"], events=["batch.finished", "training.finished"])
    assert updated["events"] == ["batch.finished", "training.finished"]
    delivery = picsort.webhook_test(created["id"])  # delivered inline in tests
    assert delivery["event"] == "webhook.test"
    [received] = stand_in.received("/hook")
    assert b"webhook.test" in received.body
    assert [d["id"] for d in picsort.webhook_deliveries(created["id"])] == [delivery["id"]]
    picsort.webhook_delete(created["id"])
    assert picsort.webhooks() == []


def test_image_urls_are_classified_each_on_its_own(picsort, stand_in):
    stand_in.routes["/coffee.png"] = lambda request: (
        200,
        {"Content-Type": "image/png"},
        photo("coffee.png"),
    )
    results = picsort.classify_urls(stand_in.url("/coffee.png"), stand_in.url("/missing.png"))
    assert [r.index for r in results] == [0, 1]
    assert results[0].ok and results[0].top.key == "n07920052"
    assert not results[1].ok and results[1].error_code
    [refused] = picsort.classify_urls(stand_in.url("/missing.png"))
    assert refused.error_code == results[1].error_code
