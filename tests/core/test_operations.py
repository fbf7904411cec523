"""Operations: JSON logs, and the prune command."""

import io
import json
import logging
import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from core.logging import JsonFormatter


def test_json_log_lines():
    record = logging.LogRecord("picsort", logging.WARNING, __file__, 1, "hello %s", ("você",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello você" and entry["level"] == "WARNING"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exception"]


@pytest.mark.django_db
def test_prune_removes_only_old_unreferenced_files(user, imagenet_model):
    from classification import services
    from tests.conftest import photo

    (prediction,) = services.classify_uploads(
        user=user, uploads=[services.Upload("c.png", photo("coffee.png"))], version=imagenet_model
    )
    kept = prediction.image.file.name
    orphan = default_storage.save("images/999/orphan.jpg", ContentFile(b"x"))
    fresh_orphan = default_storage.save("images/999/fresh.jpg", ContentFile(b"x"))
    old = time.time() - 7200
    for name in (orphan, kept):
        os.utime(default_storage.path(name), (old, old))

    out = io.StringIO()
    call_command("prune", "--dry-run", stdout=out)
    assert "would delete 1 unreferenced" in out.getvalue()
    assert default_storage.exists(orphan)
    call_command("prune", stdout=io.StringIO())
    assert not default_storage.exists(orphan)
    assert default_storage.exists(kept) and default_storage.exists(fresh_orphan)
    assert default_storage.exists(imagenet_model.onnx_file.name)
