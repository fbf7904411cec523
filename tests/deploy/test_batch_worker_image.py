"""Batch workers run on the small image, which has no TensorFlow: a real
`manage.py db_worker --queue-name batches,default` on the database queue
classifies a real batch with TensorFlow, Keras and tf2onnx out of reach
(importing them fails, as it would in that image), and at its exit none of
them is loaded."""

import json
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classification.models import BatchJob
from tests.classification.images import jpeg
from tests.classification.test_batches import make_zip
from tests.models_registry.test_worker import DB_BACKEND, ROOT, worker_env

HEAVY = ("tensorflow", "keras", "tf2onnx")

# The worker, with an import hook standing in for the image's missing
# packages; at exit it writes what it tried to import and what it loaded.
WRAPPER = r"""
import atexit, json, runpy, sys

HEAVY = {heavy!r}
attempted = []

class NotInThisImage:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HEAVY:
            attempted.append(name)
            raise ImportError(f"{{name}} is not installed in the web image")
        return None

sys.meta_path.insert(0, NotInThisImage())

def report():
    loaded = sorted({{m.partition(".")[0] for m in sys.modules}})
    with open({report!r}, "w") as out:
        json.dump({{"attempted": attempted, "loaded": loaded}}, out)

atexit.register(report)
sys.argv = ["manage.py", "db_worker", "--batch", "--no-startup-delay",
            "--queue-name", "batches,default"]
runpy.run_path("manage.py", run_name="__main__")
"""


@pytest.mark.django_db(transaction=True)
def test_a_batch_worker_never_needs_tensorflow(
    api_client, user, imagenet_model, settings, tmp_path
):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    members = {f"photos/{i:02}.jpg": jpeg(320, 240, seed=i) for i in range(30)}
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/v1/batches/",
        {"archive": SimpleUploadedFile("photos.zip", make_zip(members)), "store": "false"},
        format="multipart",
    )
    assert response.status_code == 202, response.json()

    report = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER.format(heavy=HEAVY, report=str(report))],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    job = BatchJob.objects.get()
    assert (job.status, job.done, job.failed) == ("succeeded", 30, 0), result.stderr[-3000:]
    modules = json.loads(report.read_text())
    assert "onnxruntime" in modules["loaded"]  # the report comes from the process that classified
    assert modules["attempted"] == []
    assert not set(HEAVY) & set(modules["loaded"])
