"""CSV downloads never carry a cell a spreadsheet would run as a formula."""

import csv
import io

import pytest
from django.urls import reverse

from classification import services
from core.csv_export import csv_safe_cell, csv_stream
from tests.conftest import photo

pytestmark = pytest.mark.django_db

HOSTILE = "=1+1+cmd|'-c calc'!A0.jpg"


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_start_like_a_formula_become_text(start):
    assert csv_safe_cell(f"{start}SUM(A1)") == f"'{start}SUM(A1)"


@pytest.mark.parametrize("value", ["photo.jpg", "café exprés", "", "0.957000", 12, 0.5, -3])
def test_other_cells_are_left_alone(value):
    assert csv_safe_cell(value) == value


def test_the_stream_quotes_every_row_and_the_header():
    lines = list(csv_stream(["-id"], [["@x", 1], ["ok", "+1"]]))
    assert lines == ["\ufeff", "'-id\r\n", "'@x,1\r\n", "ok,'+1\r\n"]


def test_history_export(client, user, imagenet_model):
    services.classify_uploads(
        user=user,
        uploads=[services.Upload(HOSTILE, photo("coffee.png"))],
        version=imagenet_model,
        store=False,
    )
    client.force_login(user)
    rows = _rows(client.get(reverse("classification:history_export", args=["csv"])))
    files = {row[1] for row in rows[1:]}
    assert files == {"'" + HOSTILE}


def test_batch_export(client, user, imagenet_model, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.batch_job_create(
            user=user,
            uploads=[
                services.Upload(HOSTILE, photo("coffee.png")),
                services.Upload("@broken.jpg", b"not an image"),
            ],
            version=imagenet_model,
        )
    client.force_login(user)
    rows = _rows(client.get(reverse("classification:batch_export", args=[job.pk, "csv"])))
    assert {row[1] for row in rows[1:]} == {"'" + HOSTILE, "'@broken.jpg"}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
