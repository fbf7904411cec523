"""Batch results: thumbnails and pages for 1000 items, capitalised statuses,
and the "sort my photos" zip (layout, safe names, privacy, streaming), on the
page and in the API."""

import csv
import io
import tracemalloc
import zipfile

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from classification.models import BatchItem, BatchJob, Prediction
from classification.sorted_zip import CHUNK_BYTES, safe_name
from tests.accounts.factories import UserFactory
from tests.classification import records

pytestmark = pytest.mark.django_db

HOSTILE = [
    ("n1", "tabby cat", "gato atigrado"),
    ("slash", "cats/dogs", "gatos/perros"),
    ("dots", "../x", "../x"),
    ("device", "CON", "CON"),
    ("upper", "Crane", "Grulla"),
    ("lower", "crane", "grulla"),  # another class, the same folder on a Mac
    ("unsure-class", "unsure", "dudosas"),  # a class named like the unsure folder
    ("dot-only", "...", "..."),
    ("hidden", ".bashrc", ".bashrc"),
]


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    return archive


def _manifest(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def sorted_batch(user):
    """A finished, kept batch over hostile class names; returns (job, photos by item name)."""
    version = records.toy_version(classes=HOSTILE)
    job = records.finished_batch(user=user, version=version, total=13)
    photos = {}

    def add(index, name, key, *, none_of_these=False, keep=True):
        item = records.batch_item(job=job, index=index, name=name)
        data = records.noisy_jpeg(seed=index)
        image = records.kept_image(user=user, data=data, name=name) if keep else None
        records.prediction(
            user=user,
            version=version,
            key=key,
            name=name,
            image=image,
            none_of_these=none_of_these,
            batch_item=item,
        )
        photos[name] = data

    add(0, "IMG_1.JPG", "n1")
    add(1, "img_1.jpg", "n1")  # the same file name on a case-insensitive disk
    add(2, "cat.png", "n1")  # kept photos are JPEG
    add(3, "../../evil.jpg", "slash")
    add(4, "a.jpg", "dots")
    add(5, "b.jpg", "device")
    add(6, "c.jpg", "upper")
    add(7, "d.jpg", "lower")
    add(8, "e.jpg", "unsure-class")
    add(9, "f.jpg", "dot-only")
    add(10, "g.jpg", "hidden")
    add(11, "blurry.jpg", "n1", none_of_these=True)
    add(12, "gone.jpg", "n1", keep=False)  # its image deleted from the history since
    records.batch_item(
        job=job, index=13, name="notes.txt", status=BatchItem.Status.FAILED, error="Not an image."
    )
    return job, photos


def test_sorted_zip_layout_and_safe_names_in_english(client, user, sorted_batch):
    job, photos = sorted_batch
    client.force_login(user)
    response = client.get(reverse("classification:batch_sorted_zip", args=[job.pk]))
    assert isinstance(response, StreamingHttpResponse)
    assert f"batch-{job.pk}-sorted.zip" in response["Content-Disposition"]
    archive = _zip(response)
    names = archive.namelist()
    assert sorted(names) == sorted(
        [
            "tabby cat/IMG_1.JPG",
            "tabby cat/img_1 (2).jpg",
            "tabby cat/cat.png.jpg",
            "cats_dogs/_.._evil.jpg",
            "_x/a.jpg",
            "_CON/b.jpg",
            "Crane/c.jpg",
            "crane (lower)/d.jpg",
            "unsure (unsure-class)/e.jpg",
            "dot-only/f.jpg",
            "bashrc/g.jpg",
            "unsure/blurry.jpg",
            "results.csv",
        ]
    )
    for name in names:
        assert not name.startswith(("/", ".")) and "\\" not in name
        assert ".." not in name.split("/") and name.count("/") <= 1
    assert archive.read("cats_dogs/_.._evil.jpg") == photos["../../evil.jpg"]
    assert archive.read("tabby cat/img_1 (2).jpg") == photos["img_1.jpg"]
    rows = _manifest(archive, "results.csv")
    assert rows[0] == ["file", "original_name", "status", "key", "class", "confidence", "error"]
    by_name = {row[1]: row for row in rows[1:]}
    assert len(by_name) == 14
    blurry = ["unsure/blurry.jpg", "blurry.jpg", "done", "n1", "tabby cat"]
    assert by_name["blurry.jpg"][:5] == blurry
    assert by_name["gone.jpg"][0] == "" and by_name["gone.jpg"][4] == "tabby cat"
    assert by_name["notes.txt"] == ["", "notes.txt", "failed", "", "", "", "Not an image."]


def test_sorted_zip_names_follow_the_viewers_language(client, user, sorted_batch):
    job, _photos = sorted_batch
    client.force_login(user)
    url = reverse("classification:batch_sorted_zip", args=[job.pk])
    names = set(_zip(client.get(url, HTTP_ACCEPT_LANGUAGE="es")).namelist())
    assert "gato atigrado/IMG_1.JPG" in names and "gatos_perros/_.._evil.jpg" in names
    assert "dudosas/blurry.jpg" in names and "resultados.csv" in names
    assert "dudosas (unsure-class)/e.jpg" in names  # the class named like the folder


def test_the_api_offers_the_same_download(client, user, sorted_batch):
    job, _photos = sorted_batch
    client.force_login(user)
    page = _zip(client.get(reverse("classification:batch_sorted_zip", args=[job.pk])))
    url = reverse("api:batch-sorted-zip", args=[job.pk])
    api = _zip(client.get(url, HTTP_ACCEPT="application/zip"))
    assert sorted(api.namelist()) == sorted(page.namelist())
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/batches/{id}/sorted.zip"]["get"]
    assert "application/zip" in operation["responses"]["200"]["content"]
    assert "409" in operation["responses"]


def test_only_the_owner_gets_the_zip(client, api_client, user, sorted_batch):
    job, _photos = sorted_batch
    client.force_login(UserFactory())
    assert client.get(reverse("classification:batch_sorted_zip", args=[job.pk])).status_code == 404
    response = client.get(reverse("api:batch-sorted-zip", args=[job.pk]))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert api_client.get(reverse("api:batch-sorted-zip", args=[job.pk])).status_code == 401


def test_nothing_to_sort_when_images_were_not_kept_or_the_job_runs(client, user):
    version = records.toy_version(classes=HOSTILE)
    not_kept = records.finished_batch(user=user, version=version, store=False, total=1)
    records.batch_item(job=not_kept, index=0, name="a.jpg")
    running = BatchJob.objects.create(
        user=user, model_version=version, status=BatchJob.Status.RUNNING, total=1
    )
    client.force_login(user)
    page = client.get(reverse("classification:batch_detail", args=[not_kept.pk])).content.decode()
    assert "were not kept, so they cannot be sorted" in page
    assert reverse("classification:batch_sorted_zip", args=[not_kept.pk]) not in page
    assert "Download CSV" in page and "Download JSON" in page
    api = client.get(reverse("api:batch-sorted-zip", args=[not_kept.pk]))
    assert api.status_code == 409 and api.json()["error"]["code"] == "images_not_kept"
    api = client.get(reverse("api:batch-sorted-zip", args=[running.pk]))
    assert api.status_code == 409 and api.json()["error"]["code"] == "job_not_finished"
    redirected = client.get(
        reverse("classification:batch_sorted_zip", args=[not_kept.pk]), follow=True
    )
    assert "were not kept" in redirected.content.decode()


def test_the_zip_is_streamed_in_bounded_memory(client, user):
    version = records.toy_version(classes=HOSTILE)
    job = records.finished_batch(user=user, version=version, total=24)
    photo = records.noisy_jpeg(side=640)
    for index in range(24):
        item = records.batch_item(job=job, index=index, name=f"{index}.jpg")
        image = records.kept_image(user=user, data=photo)
        records.prediction(user=user, version=version, key="n1", image=image, batch_item=item)
    total = 24 * len(photo)
    assert total > 8 * 2**20
    client.force_login(user)
    response = client.get(reverse("api:batch-sorted-zip", args=[job.pk]))
    assert isinstance(response, StreamingHttpResponse)
    tracemalloc.start()
    try:
        sizes = [len(chunk) for chunk in response.streaming_content]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(sizes) > total
    assert len(sizes) > 24 and max(sizes) <= CHUNK_BYTES + 64 * 1024
    assert peak < total / 4, f"peak {peak} bytes for a {total}-byte zip"


def test_a_thousand_items_are_paginated_with_thumbnails(
    client, user, django_assert_max_num_queries
):
    version = records.toy_version(classes=HOSTILE)
    job = records.finished_batch(user=user, version=version, total=1000)
    job.done, job.failed = 999, 1
    job.save()
    items = BatchItem.objects.bulk_create(
        BatchItem(job=job, index=i, original_name=f"photo-{i:04d}.jpg", status="done")
        for i in range(999)
    )
    BatchItem.objects.create(
        job=job, index=999, original_name="last.txt", status="failed", error="Not an image."
    )
    image = records.kept_image(user=user, data=records.noisy_jpeg())
    Prediction.objects.bulk_create(
        Prediction(
            user=user,
            model_version=version,
            label_set=version.label_set,
            original_name=item.original_name,
            results=[{"key": "n1", "index": 0, "probability": 0.8}],
            top_key="n1",
            top_probability=0.8,
            batch_item=item,
            image=image if item.index == 0 else None,
        )
        for item in items
    )
    client.force_login(user)
    url = reverse("classification:batch_detail", args=[job.pk])
    with django_assert_max_num_queries(12):
        first = client.get(url)
    body = first.content.decode()
    assert len(first.context["rows"]) == 50 and "Page 1 of 20" in body
    assert "photo-0000.jpg" in body and "photo-0050.jpg" not in body
    assert reverse("classification:thumbnail", args=[image.pk]) in body
    assert "tabby cat" in body and "80%" in body and 'id="batch-progress"' in body
    assert "Finished" in body  # statuses are stored in lower case, shown capitalised
    last = client.get(url, {"page": 20}).content.decode()
    assert "last.txt" in last and "Not an image." in last and "Failed" in last
    assert "photo-0949.jpg" not in last and "photo-0950.jpg" in last
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Terminado" in spanish and "Página 1 de 20" in spanish


def test_a_running_batch_keeps_its_live_progress_and_lists_what_waits(client, user):
    version = records.toy_version(classes=HOSTILE)
    job = BatchJob.objects.create(
        user=user, model_version=version, status=BatchJob.Status.RUNNING, total=60
    )
    BatchItem.objects.bulk_create(
        BatchItem(job=job, index=i, original_name=f"{i}.jpg") for i in range(60)
    )
    client.force_login(user)
    page = client.get(reverse("classification:batch_detail", args=[job.pk])).content.decode()
    assert 'data-finished="false"' in page and "batch.js" in page and "<progress" in page
    assert "Running" in page and "Waiting" in page and "Page 1 of 2" in page
    assert "&quot;running&quot;: &quot;Running&quot;" in page  # batch.js's status names
    assert "Sort my photos" not in page


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../x", "_x"),
        ("a/b\\c", "a_b_c"),
        ("..", "fallback"),
        ("  .hidden. ", "hidden"),
        ("nul.txt", "_nul.txt"),
        ("tab\there", "tab_here"),
        ("zero\u200bwidth", "zero_width"),
        ("é" * 300, "é" * 100),
        ('what?<>:"|*', "what_______"),
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name, fallback="fallback") == expected
