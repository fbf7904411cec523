"""The README's webhook commands, run as written against a live server, and
its verification function checking the deliveries a real receiver gets."""

import json
import re

import pytest

from accounts.services import api_token_create
from tests.core.test_readme import readme_block, readme_commands_run


def readme_verify():
    namespace: dict = {}
    exec(readme_block("webhook-verify", "python"), namespace)  # noqa: S102 (our README)
    return namespace["picsort_event_verified"]


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_readme_webhook_examples_work_as_written(live_server, user, stand_in, tmp_path):
    verified = readme_verify()
    _token, key = api_token_create(user=user, name="readme")
    received = []

    def receiver(request):
        received.append(request)
        return 200, {}, b"ok"

    stand_in.routes["/picsort"] = receiver
    script = readme_block("api-examples-webhooks").replace(
        "https://hooks.example.org", stand_in.url("")
    )
    runs = readme_commands_run(script, cwd=tmp_path, base=live_server.url, token=key)
    outputs = [json.loads(o) for o in runs]
    assert len(outputs) == 4
    secret = outputs[0]["secret"]
    assert outputs[0]["events"] == ["batch.finished", "batch.failed", "training.finished"]
    assert outputs[1]["event"] == "webhook.test"
    (delivery,) = outputs[2]["results"]
    assert delivery["status"] == "succeeded" and delivery["response_status"] == 200
    assert outputs[3]["active"] is False

    (request,) = received
    header = request.headers["Picsort-Signature"]
    assert verified(secret, header, request.body)
    assert not verified(secret, header, request.body.replace(b"test", b"tost"))
    assert not verified("whsec_someone-else", header, request.body)
    old = re.sub(r"t=\d+", "t=1000000000", header)
    assert not verified(secret, old, request.body)
