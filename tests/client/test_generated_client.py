"""A client generated from the live /api/schema/ by openapi-python-client (the
version pinned in requirements/local.in) imports, classifies a photo and reads
answers into its typed objects. The generated code lives in a temporary folder."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from picsort import Client

from tests.conftest import photo

SCRIPT = r"""
import base64, importlib, io, pkgutil, sys
import picsort_api
from picsort_api import AuthenticatedClient
from picsort_api.api.classifications import classifications_create, classifications_list
from picsort_api.api.me import me_retrieve
from picsort_api.models import Base64ImageRequest, ClassifyJsonRequest, ClassifyMultipartRequest
from picsort_api.models import ClassifyResponse, Me, PaginatedPredictionList
from picsort_api.types import File

# Every module imports (a generator bug once left one undefined name in classify).
for module in pkgutil.walk_packages(picsort_api.__path__, "picsort_api."):
    importlib.import_module(module.name)

base_url, token, path = sys.argv[1:4]
client = AuthenticatedClient(base_url=base_url, token=token)
data = open(path, "rb").read()
multipart = ClassifyMultipartRequest(
    file=[File(payload=io.BytesIO(data), file_name="coffee.png", mime_type="image/png")], top_k=3
)
answer = classifications_create.sync(client=client, body=multipart)
assert isinstance(answer, ClassifyResponse), answer
print("multipart", answer.results[0].original_name, answer.results[0].classes[0].key,
      len(answer.results[0].classes))
body = ClassifyJsonRequest(
    images=[Base64ImageRequest(name="cup.png", data=base64.b64encode(data).decode())], store=False
)
answer = classifications_create.sync(client=client, body=body)
assert isinstance(answer, ClassifyResponse), answer
print("json", answer.results[0].original_name, answer.results[0].classes[0].key)
me = me_retrieve.sync(client=client)
assert isinstance(me, Me), me
print("me", me.email)
history = classifications_list.sync(client=client)
assert isinstance(history, PaginatedPredictionList), history
print("history", history.count)
"""


def _generator() -> Path:
    found = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("openapi-python-client is missing: make install installs it (local.in)")
        pytest.skip("openapi-python-client is not installed (make install)")
    return Path(found)


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_imports_and_classifies(
    live_server, token, user, imagenet_model, tmp_path
):
    generator = _generator()
    with Client(live_server.url, token) as client:
        schema = client.transport.request("GET", "/api/schema/", params={"format": "json"})
    (tmp_path / "schema.json").write_bytes(schema.content)
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no formatter needed
    options = ["--meta", "none", "--output-path", "picsort_api", "--config", "config.yaml"]
    generated = subprocess.run(
        [str(generator), "generate", "--path", "schema.json", *options],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    (tmp_path / "coffee.png").write_bytes(photo("coffee.png"))
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, live_server.url, token, "coffee.png"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert lines == [
        "multipart coffee.png n07920052 3",
        "json cup.png n07920052",
        f"me {user.email}",
        "history 2",
    ]
