"""The README's image-URL commands, run as written against a live server; a
local server stands in for https://images.example.org."""

import pytest

from accounts.services import api_token_create
from classification.models import Prediction
from tests.conftest import photo
from tests.core.test_readme import readme_block, readme_commands_run


@pytest.mark.django_db(transaction=True)
def test_readme_image_url_examples_work_as_written(
    live_server, user, imagenet_model, stand_in, tmp_path
):
    _token, key = api_token_create(user=user, name="readme")
    coffee = photo("coffee.png")
    stand_in.routes["/espresso.jpg"] = lambda r: (200, {"Content-Type": "image/png"}, coffee)
    page = b"<!doctype html><title>photos</title>"
    stand_in.routes["/page.html"] = lambda r: (200, {"Content-Type": "image/jpeg"}, page)

    script = readme_block("api-examples-urls").replace(
        "https://images.example.org", stand_in.url("")
    )
    outputs = readme_commands_run(script, cwd=tmp_path, base=live_server.url, token=key)
    outputs = [o.replace(" ", "") for o in outputs]
    assert len(outputs) == 3
    assert '"key":"n07920052"' in outputs[0] and '"original_name":"espresso.jpg"' in outputs[0]
    assert '"index":0' in outputs[1] and '"code":"not_an_image"' in outputs[1]
    assert '"code":"url_refused"' in outputs[2]
    first, second = Prediction.objects.order_by("id")
    assert first.image is not None and second.image is None  # store=false: the result only
    assert [r.path for r in stand_in.requests] == ["/espresso.jpg", "/espresso.jpg", "/page.html"]
