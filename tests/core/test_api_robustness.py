"""Inputs found by fuzzing the OpenAPI schema (schemathesis) stay 4xx."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.accounts.factories import UserFactory
from tests.conftest import photo

pytestmark = pytest.mark.django_db
HUGE = "86076308630339518464"  # more than a 64-bit integer holds


def test_huge_numbers_are_4xx_not_500(api_client, user, imagenet_model):
    api_client.force_authenticate(user)
    response = api_client.get("/api/v1/classifications/", {"model": HUGE, "since": "0296-07-21"})
    assert response.status_code == 400
    assert api_client.get(f"/api/v1/classifications/{HUGE}/").status_code == 404
    assert api_client.get(f"/api/v1/batches/{HUGE}/results/").status_code == 404
    response = api_client.post(
        "/api/v1/classifications/",
        {"file": [SimpleUploadedFile("c.png", photo("coffee.png"))], "model": HUGE},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_model"

    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post(
        "/api/v1/aliases/default/activate/", {"version": HUGE}, format="json"
    )
    assert response.status_code == 400


def test_alias_history_matches_its_schema(api_client, user, imagenet_model):
    from drf_spectacular.generators import SchemaGenerator

    api_client.force_authenticate(user)
    history = api_client.get("/api/v1/aliases/default/").json()["history"]
    assert history[0]["from_version"] is None and history[0]["changed_by"] is None
    schema = SchemaGenerator().get_schema(request=None, public=True)
    fields = schema["components"]["schemas"]["AliasChange"]["properties"]
    assert fields["from_version"]["nullable"] and fields["changed_by"]["nullable"]
