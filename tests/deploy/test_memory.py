"""Memory given back and bounded: freed pictures return to the system at once,
and a gunicorn worker that grows past GUNICORN_MAX_RSS_MB is replaced after
its request."""

import re

import pytest

from core.memory import resident_mb, return_freed_memory
from tests.classification.images import encode
from tests.core.test_metrics_gunicorn import Gunicorn
from tests.models_registry.test_worker import wait_until


def test_a_big_decoded_picture_is_given_back_once_freed():
    from PIL import Image

    from core.images import open_image

    assert return_freed_memory()  # glibc here
    data = encode(Image.new("RGBA", (6000, 6000)), "PNG")  # 144 MB once decoded
    before = resident_mb()
    image = open_image(data, draft_size=256)
    assert 256 <= min(image.size) < 512
    del image
    assert resident_mb() - before < 40  # not the 150+ MB glibc used to keep


@pytest.mark.django_db(transaction=True)
def test_a_worker_past_its_memory_limit_is_replaced_after_its_request(tmp_path):
    server = Gunicorn(tmp_path, {"GUNICORN_MAX_RSS_MB": "1"})  # every worker is past it
    try:
        first = set(server.booted())
        assert server.get("/healthz")[0] == 200  # the request itself is answered
        assert wait_until(lambda: len(server.booted()) > len(first), 30), server.log()
        assert re.search(r"worker \d+ holds \d+ MB \(more than 1\): replacing it", server.log())
    finally:
        server.stop()
