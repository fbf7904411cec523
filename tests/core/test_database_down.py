"""With the database unreachable, pages and the API answer 503 with a message."""

import os

from tests.models_registry.test_worker import run_json_script

SCRIPT = r"""
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
headers = {"authorization": "Bearer pst_anything", "accept-language": "es"}
api = client.get("/api/v1/models/", headers=headers)
client.cookies["sessionid"] = "some-session"
page = client.get("/classify/history/")
print(json.dumps({
    "api": [api.status_code, api.json(), api.get("Retry-After")],
    "page": [page.status_code, page.content.decode()],
    "healthz": client.get("/healthz").status_code,
}))
"""


def test_database_down_gives_503_not_a_stack_trace():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # Nothing listens on port 1: every query fails to connect.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/picsort",
    }
    report = run_json_script(SCRIPT, env, timeout=60)
    status, body, retry = report["api"]
    assert status == 503 and retry == "5"
    assert body["error"]["code"] == "service_unavailable"
    assert "no está disponible" in body["error"]["message"]
    status, html = report["page"]
    assert status == 503
    assert "Briefly unavailable" in html and "Traceback" not in html
    assert report["healthz"] == 200  # the process itself is up
