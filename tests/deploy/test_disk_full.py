"""A full disk, for real: media on a tiny tmpfs that is nearly full. Uploads
get a clear 507, and no row or (partial) file is left behind."""

import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classification.models import BatchJob, Image, Prediction
from tests.conftest import photo
from tests.training.examples import crops

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_disk(tmp_path, settings, imagenet_model):
    """MEDIA_ROOT on a 256 KB tmpfs with only ~24 KB left (the model, stored
    before, stays loaded in this process)."""
    from classification import inference

    inference.sessions.get(imagenet_model)
    mountpoint = tmp_path / "media"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        filler = mountpoint / "filler"
        filler.write_bytes(b"\0" * (232 * 1024))
        settings.MEDIA_ROOT = str(mountpoint)
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_classify_on_a_full_disk_is_a_clear_507_and_keeps_nothing(
    full_disk, api_client, client, user, imagenet_model
):
    before = _files(full_disk)
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/v1/classifications/",
        {"file": [SimpleUploadedFile("coffee.png", photo("coffee.png"))]},
        format="multipart",
    )
    assert response.status_code == 507, response.content
    error = response.json()["error"]
    assert error["code"] == "storage_full" and "no room" in error["message"]
    assert not Image.objects.exists() and not Prediction.objects.exists()
    assert _files(full_disk) == before  # the half-written image was removed

    # Keeping only the result needs no disk: it still works.
    response = api_client.post(
        "/api/v1/classifications/",
        {"file": [SimpleUploadedFile("coffee.png", photo("coffee.png"))], "store": "false"},
        format="multipart",
    )
    assert response.status_code == 200  # answered, nothing stored

    # The page says the same, in Spanish too.
    client.force_login(user)
    page = client.post(
        "/classify/",
        {
            "file": SimpleUploadedFile("coffee.png", photo("coffee.png")),
            "model": "default",
            "store": "on",
        },
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert page.status_code == 507 and "no hay espacio" in page.content.decode()
    assert _files(full_disk) == before


def test_batches_and_examples_on_a_full_disk(full_disk, api_client, user, imagenet_model):
    before = _files(full_disk)
    api_client.force_authenticate(user)
    big = [SimpleUploadedFile(f"{i}.png", photo("coffee.png")) for i in range(3)]
    response = api_client.post("/api/v1/batches/", {"file": big}, format="multipart")
    assert response.status_code == 507
    assert not BatchJob.objects.exists()
    assert _files(full_disk) == before

    from core.exceptions import ApplicationError
    from core.uploads import Upload
    from training import services
    from training.models import Example

    classifier = services.classifier_create(user=user, name="c", class_names=["a", "b"])
    uploads = [Upload(f"{uuid.uuid4().hex}.jpg", d) for d in crops("brick.png", 12, size=400)]
    with pytest.raises(ApplicationError) as error:
        services.examples_add(classifier=classifier, uploads_by_class={"a": uploads})
    assert error.value.status == 507
    assert not Example.objects.exists()
    assert _files(full_disk) == before
