"""Media in S3-compatible object storage (django-storages), against moto's S3
server on 127.0.0.1: uploads, a worker process, training and clean-up all go
through the bucket, and nothing is written to the local media folder."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import photo
from tests.models_registry.test_worker import DB_BACKEND, run_worker, worker_env

BUCKET = "picsort-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=30)


S3_ENV = {
    "DJANGO_S3_BUCKET": BUCKET,
    "DJANGO_S3_REGION": "us-east-1",
    "DJANGO_S3_ACCESS_KEY_ID": "testing",
    "DJANGO_S3_SECRET_ACCESS_KEY": "testing",
}


@pytest.fixture
def s3(s3_server, settings):
    """The default storage is the bucket (emptied and created for each test)."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    existing = [b["Name"] for b in client.list_buckets()["Buckets"]]
    if BUCKET in existing:
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    else:
        client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }

    def keys(prefix: str = "") -> list[str]:
        listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(item["Key"] for item in listed)

    keys.env = {**S3_ENV, "DJANGO_S3_ENDPOINT_URL": s3_server}
    return keys


def _local_media(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
def test_classifications_live_in_the_bucket(
    s3, settings, api_client, client, user, imagenet_model, django_capture_on_commit_callbacks
):
    assert s3("models/")  # the model files themselves were stored there
    before = set(_local_media(settings))
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/v1/classifications/",
        {"file": [SimpleUploadedFile("coffee.png", photo("coffee.png"))]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    result = response.json()["results"][0]
    assert result["classes"][0]["key"] == "n07920052"
    assert len(s3("images/")) == 2  # the re-encoded image and its thumbnail
    client.force_login(user)
    image = client.get(result["image_url"])
    assert image.status_code == 200 and b"".join(image.streaming_content)[:2] == b"\xff\xd8"

    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.delete(result["url"]).status_code == 204
    assert s3("images/") == []
    assert set(_local_media(settings)) == before  # nothing landed on the local disk


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_reads_and_writes_the_same_bucket(
    s3, settings, api_client, user, imagenet_model
):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    api_client.force_authenticate(user)
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("coffee.png", "chelsea.png", "camera.png"):
            archive.writestr(name, photo(name))
    response = api_client.post(
        "/api/v1/batches/",
        {"archive": SimpleUploadedFile("p.zip", buffer.getvalue())},
        format="multipart",
    )
    assert response.status_code == 202
    assert len(s3("uploads/")) == 1  # the zip waits in the bucket for a worker, as it came

    done = run_worker("batches", env={**worker_env(), **s3.env})
    assert done.returncode == 0, done.stderr[-3000:]
    job = api_client.get(response.json()["url"]).json()
    assert job["status"] == "succeeded" and job["done"] == 3, (job, done.stderr[-2000:])
    assert s3("uploads/") == []  # the zip leaves with the finished job
    assert len(s3("images/")) == 6


@pytest.mark.django_db
def test_training_examples_and_models_in_the_bucket(
    s3, user, imagenet_model, django_capture_on_commit_callbacks
):
    from core.uploads import Upload
    from tests.training.examples import TEXTURES, crops
    from training import services

    classifier = services.classifier_create(user=user, name="c", class_names=list(TEXTURES))
    services.examples_add(
        classifier=classifier,
        uploads_by_class={
            name: [Upload(f"{i}.jpg", d) for i, d in enumerate(crops(src, 4, seed=n))]
            for n, (name, src) in enumerate(TEXTURES.items())
        },
    )
    assert len(s3("examples/")) == 12
    with django_capture_on_commit_callbacks(execute=True):
        run, _ = services.training_start(classifier=classifier, user=user)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    version_keys = [k for k in s3("models/") if run.model_version.onnx_file.name in k]
    assert version_keys

    with django_capture_on_commit_callbacks(execute=True):
        services.classifier_delete(classifier=classifier)
    assert s3("examples/") == []
    assert not [k for k in s3("models/") if run.model_version.onnx_file.name in k]
